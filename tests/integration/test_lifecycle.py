"""SIGTERM draining."""
import signal
import socket
import threading
import time

from berthkit import get_req, raw_request, wait_upstream


def test_sigterm_finishes_in_flight_request_and_exits_0(berth, origin):
    b = berth("--socket-timeout", "5s", "--drain-timeout", "10s")
    result = {}

    def slow():
        try:
            result["r"] = raw_request(b.proxy, get_req(origin.hostport, "/sleep/1"), timeout=15)
        except Exception as e:  # noqa: BLE001
            result["e"] = e

    t = threading.Thread(target=slow, daemon=True)
    t.start()
    wait_upstream(b, origin.hostport, lambda u: u["busy"] == 1, timeout=5, what="request in flight")
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    # new work is not served (refused, closed, or answered with an error)
    try:
        r = raw_request(b.proxy, get_req(origin.hostport, "/late"), timeout=3)
        assert r.status != 200, f"a request accepted after SIGTERM was served: {r}"
    except (ConnectionError, EOFError, socket.timeout, OSError):
        pass
    t.join(15)
    rc = b.proc.wait(timeout=15)
    assert "e" not in result, result
    assert result["r"].status == 200 and result["r"].body == b"hello /sleep/1", result
    assert rc == 0, b.stderr_text()
    assert "/late" not in [p for _, p, _ in origin.requests]


def test_sigterm_idle_exits_promptly(berth, origin):
    b = berth()
    r = raw_request(b.proxy, get_req(origin.hostport, "/x"))
    assert r.status == 200
    t0 = time.monotonic()
    b.proc.send_signal(signal.SIGTERM)
    rc = b.proc.wait(timeout=15)
    assert rc == 0
    assert time.monotonic() - t0 < 3.0
