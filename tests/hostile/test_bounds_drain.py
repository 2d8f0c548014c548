"""A drain completes accepted work (issue 23 item 10): on SIGTERM every request berth accepted (in flight, queued
for a connection, held by a pause) is served within the drain timeout, each connection closes after its response,
new callers are not accepted, and the admin listener stays up so /readyz answers 503 draining until berth exits."""
import signal
import socket
import threading
import time

from berthkit import RawClient, admin, admin_json, get_req, wait_for

SLOW = ("--socket-timeout", "10s", "--acquire-timeout", "10s", "--drain-timeout", "10s")


class Caller:
    """One caller connection that sent `data` and reads its response in the background."""

    def __init__(self, b, data):
        self.client = RawClient(b.proxy, timeout=30)
        self.client.sendall(data)
        self.result = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            r = self.client.read_response()
            # After its response a draining berth closes the connection: nothing more comes.
            rest = self.client.sock.recv(1)
            self.result = (r, rest)
        except Exception as e:  # noqa: BLE001
            self.result = e

    def response(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "no response within 30 s"
        assert not isinstance(self.result, Exception), self.result
        return self.result


def _readyz(b):
    """(status, JSON) of /readyz, or the error that stopped the call (the admin listener gone)."""
    try:
        r = admin(b, "GET", "/readyz", timeout=5)
    except OSError as e:
        return e
    return r.status, r.json()


def _draining_after_sigterm(b):
    """/readyz once the SIGTERM sent just before has been handled (the signal reaches berth's loop asynchronously, so
    a /readyz sent at once may still be answered first): (503, draining), or whatever it said last."""
    last = []

    def draining():
        last[:] = [_readyz(b)]
        return last[0] == (503, {"status": "draining"})
    try:
        wait_for(draining, timeout=5, what="/readyz draining")
    except AssertionError:
        pass
    return last[0]


def _new_caller_refused(b):
    """A new caller after SIGTERM: refused, or closed with no request served."""
    try:
        s = socket.create_connection(b.proxy, timeout=3)
    except OSError:
        return True
    try:
        s.sendall(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
        return s.recv(1) == b""
    except OSError:
        return True
    finally:
        s.close()


def test_sigterm_serves_the_request_in_flight_and_the_one_queued_behind_it(berth, origin):
    b = berth("--max-per-route", "1", *SLOW)
    first = Caller(b, get_req(origin.hostport, "/sleep/1.5"))
    wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["busy"] == 1, timeout=10, what="first in flight")
    second = Caller(b, get_req(origin.hostport, "/sleep/0.5"))
    wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["pending"] == 1, timeout=10, what="second queued")

    b.proc.send_signal(signal.SIGTERM)
    ready = _draining_after_sigterm(b)
    refused = _new_caller_refused(b)
    for caller, path in ((first, "/sleep/1.5"), (second, "/sleep/0.5")):
        r, rest = caller.response()
        assert r.status == 200 and r.body == f"hello {path}".encode(), r
        assert (r.header("Connection") or "").lower() == "close", r
        assert rest == b"", rest
    assert ready == (503, {"status": "draining"})
    assert refused
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()
    assert [p for _, p, _ in origin.requests] == ["/sleep/1.5", "/sleep/0.5"]


def test_a_request_held_by_a_pause_is_served_when_the_pause_lifts_during_the_drain(berth, origin):
    b = berth("--workers", "2", *SLOW)
    admin_json(b, "POST", f"/pause?upstream={origin.hostport}&hold=30s")
    # Four callers: the kernel spreads them over both workers, so the admin (on worker 0) must outlive either drain.
    held = [Caller(b, get_req(origin.hostport, f"/held/{i}")) for i in range(4)]
    wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["pending"] == 4, timeout=10, what="four held")

    b.proc.send_signal(signal.SIGTERM)
    assert _draining_after_sigterm(b) == (503, {"status": "draining"})
    time.sleep(0.5)
    # Still draining, still answering: the held requests keep the workers (and the admin) up.
    assert _readyz(b) == (503, {"status": "draining"})
    assert b.proc.poll() is None
    admin_json(b, "POST", f"/resume?upstream={origin.hostport}")
    for i, caller in enumerate(held):
        r, rest = caller.response()
        assert r.status == 200 and r.body == f"hello /held/{i}".encode(), r
        assert rest == b""
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()


def test_a_request_still_held_when_the_drain_ends_gets_503_shutting_down(berth, origin):
    b = berth("--socket-timeout", "10s", "--drain-timeout", "1s")
    admin_json(b, "POST", f"/pause?upstream={origin.hostport}&hold=30s")
    held = Caller(b, get_req(origin.hostport, "/held"))
    wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["pending"] == 1, timeout=10, what="held")
    b.proc.send_signal(signal.SIGTERM)
    # Held through the drain, not answered at its start: the pause may still lift.
    assert _draining_after_sigterm(b) == (503, {"status": "draining"})
    assert held.thread.is_alive(), held.result
    r, rest = held.response()
    assert r.status == 503 and r.header("Berth-Error") == "shutting-down", r
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()
    assert origin.requests == []
