#!/usr/bin/env python3
"""idle-clients.py tcp|udp PORT N PID: hold N idle clients of the relay at PORT (TCP: N
connections, each answered once; UDP: N sources, each answered once), then print the
relay's (process PID) resident memory in kB and its number of descriptors."""
import os, select, socket, sys, time
proto, port, n, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
socks = []
if proto == "tcp":
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"x" * 64)
        socks.append(s)
    for s in socks:  # every client answered: each one's pair is in place
        s.settimeout(10)
        got = 0
        while got < 64:
            got += len(s.recv(64 - got))
else:
    # a burst of datagrams can overflow a receive buffer on the way: a source not answered
    # within half a second sends again (at most 20 times), so each ends with its mapping
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    waiting = {s.fileno(): s for s in socks}
    poll = select.poll()
    for s in socks:
        poll.register(s, select.POLLIN)
    for attempt in range(20):
        for i, s in enumerate(list(waiting.values())):
            s.sendto(b"x" * 64, ("127.0.0.1", port))
            if i % 100 == 99:
                time.sleep(0.005)
        end = time.time() + 0.5
        while waiting and time.time() < end:
            for fd, _ in poll.poll(50):
                if fd in waiting:
                    waiting.pop(fd).recv(64)
                    poll.unregister(fd)
        if not waiting:
            break
    if waiting:
        sys.exit(f"{len(waiting)} of {n} sources never answered")
time.sleep(0.2)
rss = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:")][0]
print(rss, len(os.listdir(f"/proc/{pid}/fd")))
