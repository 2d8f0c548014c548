"""A `/pause?drain=` still waiting when a SIGTERM's drain ends is answered before berth exits (adv4).

api.md: the admin stays open for the whole drain, every command included, and `drain=` answers once nothing is in
flight on the upstream. A stop ends everything in flight (the requests finish, or the drain timeout cuts them), yet
the waiting `/pause` and the commands pipelined behind it were never answered: the drain's notice is told on the
loop's next turn and the loops stopped first, so the orchestrator that asked to pause before a freeze read a bare
FIN, as if berth had failed, while nothing was left in flight."""
import json
import signal
import threading
import time

import pytest

from berthkit import Berth, RawOrigin, get_req
from hostile_wire import connect, read_to_end, status_of


def answers(raw):
    """The (status, body) of each whole response with a Content-Length in `raw`, in order."""
    out = []
    while raw.startswith(b"HTTP/1."):
        head, _, rest = raw.partition(b"\r\n\r\n")
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")[1:]
                      if line.lower().startswith(b"content-length:"))
        if len(rest) < length:
            break
        out.append((status_of(head), rest[:length]))
        raw = rest[length:]
    return out


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("ending", ["request-finishes", "drain-timeout-cuts"])
def test_a_waiting_pause_drain_is_answered_when_the_stop_ends_what_was_in_flight(workers, ending):
    gate = threading.Event()

    def slow(conn):
        if conn.read_request() is None:
            return
        gate.wait(20)
        try:
            conn.respond(200, b"late")
        except OSError:
            pass

    origin = RawOrigin(slow)
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--workers", str(workers), "--socket-timeout", "30s", "--drain-timeout", "2s"])
    try:
        caller = connect(b.proxy, timeout=15)
        caller.sendall(get_req(origin.hostport, "/slow"))
        deadline = time.monotonic() + 5
        while not origin.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert origin.requests, "the request reached the origin"
        pauser = connect(b.admin, timeout=15)
        pauser.sendall(f"POST /pause?upstream={origin.hostport}&drain=1h HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.3)
        b.proc.send_signal(signal.SIGTERM)
        if ending == "request-finishes":
            time.sleep(0.3)
            gate.set()
            got, how = read_to_end(caller, timeout=10)
            assert status_of(got) == 200 and got.endswith(b"late"), got[:300]
        raw, how = read_to_end(pauser, timeout=10)
        got = answers(raw)
        assert len(got) == 2, (how, raw[:600])
        (pause_status, pause_body), (health_status, _) = got
        assert pause_status == 200, pause_body
        pause = json.loads(pause_body)
        assert pause["state"] == "paused" and pause["in_flight"] == 0, pause
        assert health_status == 200
        assert b.proc.wait(10) == 0
    finally:
        gate.set()
        b.stop()
        origin.close()
