#!/usr/bin/env python3
"""burst-client.py PORT N SERVER_LOG LIMIT: open N TCP connections to 127.0.0.1:PORT as fast as
possible, all outstanding at once (non-blocking connect), wait until every one is
established and the server has accepted them all (its -v log has N "accepted" lines), or
LIMIT seconds have passed. Prints "connected accepted seconds"."""
import errno
import select
import socket
import sys
import time


def count_accepted(log, seen, partial):
    """Add the "accepted" lines the server has written since the last call; a line still
    being written is kept in partial for the next one. Returns (seen, partial)."""
    lines = (partial + log.read()).split("\n")
    for line in lines[:-1]:
        if line.startswith("accepted "):
            seen += 1
    return seen, lines[-1]


def main():
    port, n, log_path, limit = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    poller = select.epoll()
    waiting = {}
    start = time.monotonic()
    deadline = start + limit
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, errno.EINPROGRESS):
            sys.exit(f"burst-client: connect: {errno.errorcode.get(err, err)}")
        waiting[s.fileno()] = s
        poller.register(s.fileno(), select.EPOLLOUT)
    done = []
    connected = 0
    # a connection is established when it turns writable with no pending error (SYN-ACK
    # came back); the server may still hold it in its listen queue, not yet accepted
    while waiting and time.monotonic() < deadline:
        for fd, _ in poller.poll(0.1):
            s = waiting.pop(fd)
            poller.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
            done.append(s)
    accepted, partial = 0, ""
    with open(log_path, encoding="utf-8", errors="replace") as log:
        while True:
            accepted, partial = count_accepted(log, accepted, partial)
            if accepted >= n or time.monotonic() >= deadline:
                break
            time.sleep(0.005)
    print(connected, accepted, f"{time.monotonic() - start:.3f}")


main()
