"""An idle keep-alive admin connection holding the admin's reserve descriptor gives way to a new admin caller.

With `--max-callers` above what RLIMIT_NOFILE leaves (berth warns at start), idle callers can take every descriptor.
The admin listener keeps one in reserve for that moment, and the first admin connection to come takes it; a
keep-alive one (a Prometheus scraper, a monitor's probe) then held it, and the orchestrator's `/pause` waited
unanswered in the backlog for up to that connection's idle timeout (60 s). Now a listener out of descriptors with
its reserve spent asks the admin to close its quietest connection that is not answering, and the new one takes
that descriptor (adv4's leftover)."""
import os
import resource
import time

from hostile_wire import connect, read_to_end, status_of

LIMIT = 64


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_held_reserve_gives_way_to_the_orchestrator(berth):
    b = berth("--max-callers", "500", "--max-total", "4", "--max-per-route", "4",
              popen_kw={"preexec_fn": lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))})
    callers = []
    monitor = None
    try:
        deadline = time.monotonic() + 10
        while fds(b.pid) < LIMIT and time.monotonic() < deadline:
            before = fds(b.pid)
            callers.append(connect(b.proxy))
            while fds(b.pid) == before and time.monotonic() < deadline:
                time.sleep(0.01)
        assert fds(b.pid) == LIMIT, fds(b.pid)
        monitor = connect(b.admin, timeout=5)
        monitor.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert monitor.recv(100).startswith(b"HTTP/1.1 200"), "the monitor got no answer on the reserve descriptor"
        s = connect(b.admin, timeout=10)
        s.sendall(b"POST /pause?upstream=a.test:80 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data, _ = read_to_end(s, timeout=10)
        s.close()
        assert status_of(data) == 200, data[:200]
    finally:
        for c in callers:
            c.close()
        if monitor:
            monitor.close()
