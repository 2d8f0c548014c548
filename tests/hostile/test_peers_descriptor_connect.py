"""A connect that finds no free descriptor is berth's own shortage, answered 503, not the origin's refusal (peers)."""
import os
import resource
import socket
import time

from berthkit import get_req, upstream_stats
from hostile_wire import connect, header_of, read_to_end, status_of

LIMIT = 64


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_connect_without_a_free_descriptor_is_503_and_not_blamed_on_the_origin(berth, raw_origin):
    """`--max-callers` set above what RLIMIT_NOFILE leaves (berth warns at start that connects may fail): idle
    callers take every descriptor, and a request from the last one needs a socket for its upstream. socket() fails
    with EMFILE. Before: 502 `connect-refused` ("refused the connection"), counted against the healthy origin as a
    refusal, where HAProxy answers 503 for a connect that lacks local resources. Now 503 `out-of-descriptors`; once
    callers leave, the same origin answers at once."""
    o = raw_origin(lambda conn: conn.read_request() and conn.respond(200, b"ok"))
    b = berth("--max-callers", "200", "--max-total", "4", "--max-per-route", "4",
              popen_kw={"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))})
    callers = []
    try:
        # Fill the table: each caller is one descriptor in berth; the last one accepted sends the request.
        deadline = time.monotonic() + 10
        while fds(b.pid) < LIMIT and time.monotonic() < deadline:
            before = fds(b.pid)
            callers.append(connect(b.proxy))
            while fds(b.pid) == before and time.monotonic() < deadline:
                time.sleep(0.01)
        assert fds(b.pid) == LIMIT, fds(b.pid)
        last = callers[-1]
        last.sendall(get_req(o.hostport, "/x", extra=b"Connection: close\r\n"))
        raw, how = read_to_end(last, timeout=5)
        assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "out-of-descriptors", raw[:300]
        assert o.requests == []
        up = upstream_stats(b, o.hostport)
        assert up["failures"]["connect-refused"] == 0, up["failures"]
    finally:
        for c in callers:
            c.close()
    time.sleep(0.3)
    s = connect(b.proxy)
    s.sendall(get_req(o.hostport, "/after", extra=b"Connection: close\r\n"))
    raw, how = read_to_end(s, timeout=5)
    s.close()
    assert status_of(raw) == 200 and raw.endswith(b"ok"), raw[:300]
