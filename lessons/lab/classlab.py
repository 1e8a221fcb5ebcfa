"""classlab - a lab per student: each student's own numbers, and what a run with them must show.

A student id (`--student ID` to a lesson's check or to the capstone's run) picks the lesson's
parameters: for each one, SHA-256 of "socklab-student/1 LESSON NAME ID" taken modulo the size
of the parameter's range (a number) or picking two words (a text). The ranges keep every check of the lesson true, so two students
run the same lab with different numbers, and the answers to its questions differ too.
Without an id a lesson uses the numbers its page shows.

From the parameters follow the results a run must show exactly (its "facts": which probes
time out, how many are lost, how long a segment is). A check compares what it measured with
them and puts both in its JSON; `grade` recomputes them from the id alone, so a report whose
numbers could not come from its student's parameters is caught.

Used by `student` (a student's numbers; the checks read them from it) and `grade` (a class's
reports). Runs with any python3 >= 3.7; nothing outside the standard library.
"""

import hashlib
import re

SCHEME = "socklab-student/1"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
ID_RULE = "1 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"


class Param:
    """One number of a lesson: the page's value, the range a student's value comes from."""

    def __init__(self, page, low, high, meaning):
        self.page, self.low, self.high, self.meaning = page, low, high, meaning

    def pick(self, n):
        return self.low + n % (self.high - self.low + 1)


ADJECTIVES = ("amber", "brave", "calm", "dusty", "eager", "fuzzy", "gentle", "hasty",
              "icy", "jolly", "keen", "lucky", "mellow", "nimble", "odd", "proud", "quiet",
              "rapid", "sunny", "tidy", "urban", "vivid", "witty", "young", "zesty")
ANIMALS = ("badger", "camel", "dingo", "eagle", "ferret", "gecko", "heron", "ibis",
           "jackal", "koala", "lemur", "marmot", "newt", "otter", "panda", "quail",
           "raven", "seal", "tapir", "urchin", "viper", "walrus", "yak", "zebra")


class Words:
    """A text of a lesson: the page's, or for a student "WORD ANIMAL" (600 of them)."""

    def __init__(self, page, meaning):
        self.page, self.meaning = page, meaning

    def pick(self, n):
        return f"{ADJECTIVES[n % len(ADJECTIVES)]} {ANIMALS[n // len(ADJECTIVES) % len(ANIMALS)]}"


# The parameters of each lesson that has some. Both keep the page's loss, every 5th packet
# arriving at host b, for everyone: which of TCP's packets it hits (a probe, or an ACK that
# the next probe carries again) and so how TCP repairs it (a retransmission timeout of 200 ms
# or more, or a resend within a round trip) depends on it, and the TCP checks are about that
# pattern (every 7th or 8th, in the capstone, left no probe waiting for a timeout). Probes
# must fit one segment.
LESSONS = {
    "01-first-contact": {
        "message": Words("Hello from client", "what the client sends"),
        "reply": Words("Hello from server", "what the server answers (--reply)"),
    },
    "07-loss-and-timeouts": {
        "probes": Param(20, 16, 24, "probes per protocol"),
        "size": Param(64, 32, 1024, "bytes per probe"),
    },
    "14-capstone": {
        "count": Param(50, 40, 60, "probes per protocol"),
        "size": Param(64, 32, 1024, "bytes per probe"),
    },
}


def valid_id(student):
    return bool(ID_PATTERN.match(student or ""))


def params(lesson, student=None):
    """The lesson's numbers and texts for STUDENT (None: the page's), as a dict."""
    out = {}
    for name, p in LESSONS.get(lesson, {}).items():
        if student is None:
            out[name] = p.page
            continue
        digest = hashlib.sha256(f"{SCHEME} {lesson} {name} {student}".encode()).digest()
        out[name] = p.pick(int.from_bytes(digest[:8], "big"))
    return out


def _first_contact(p):
    sent, back = len(p["message"]), len(p["reply"])
    return {
        "tcp_reply": p["reply"],
        "tcp_summary": f"summary: 1 clients, 1 messages received, 1 sent, {sent} bytes in, "
                       f"{back} bytes out, 0 truncated, 0 refused, 0 errors",
        "udp_reply": p["reply"],
        "udp_summary": f"summary: 1 peers, 1 datagrams received, 1 sent, {sent} bytes in, "
                       f"{back} bytes out, 0 truncated, 0 refused, 0 errors",
    }


LOSS_EVERY = 5  # every 5th packet arriving at host b is dropped, for everyone


def _loss_07(p):
    n, count = LOSS_EVERY, p["probes"]
    lost = count // n
    return {
        # the UDP probes that fall on every Nth UDP packet into b: N, 2N, ...
        "udp_timeouts": " ".join(str(k) for k in range(n, count + 1, n)),
        "udp_summary": f"{count} sent, {count - lost} received, {lost} lost",
        "tcp_summary": f"{count} sent, {count} received, 0 lost",
        "udp_drops": str(lost),
        "udp_at_b": f"{count} {count - lost}",
        "tcp_first_probe": f"{p['size']} {p['size']}",
    }


def _capstone(p):
    n, count, size = LOSS_EVERY, p["count"], p["size"]
    lost = count // n
    # paths in report.json (jq syntax) and what each must hold
    return {
        ".config.loss_every": str(n),
        ".config.count": str(count),
        ".config.size": str(size),
        ".probe.tcp.transmitted": str(count),
        ".probe.tcp.received": str(count),
        ".probe.tcp.lost": "0",
        ".probe.tcp.size": str(size),
        ".probe.udp.transmitted": str(count),
        ".probe.udp.received": str(count - lost),
        ".probe.udp.lost": str(lost),
        ".probe.udp.size": str(size),
    }


FACTS = {"01-first-contact": _first_contact, "07-loss-and-timeouts": _loss_07,
         "14-capstone": _capstone}


def facts(lesson, student=None):
    """What a run of LESSON with STUDENT's numbers must show, as a dict name -> string."""
    rule = FACTS.get(lesson)
    return rule(params(lesson, student)) if rule else {}
