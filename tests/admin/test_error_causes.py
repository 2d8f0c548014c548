"""Every response berth answers itself is counted under its Berth-Error cause in errors (/stats) and
berth_errors_total (/metrics), and every declared cause is raised somewhere.

Three of them reproduced defects of issue 12 (bad requests and header timeouts missing from errors_total, the
shutting-down cause never raised); ProxySession's one answer path fixed them.
"""
import signal
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from berthkit import admin, admin_json, stats, wait_for
from admin_helpers import SLOW_FLAGS, Background


def _raw(berth, data, timeout=5.0):
    """Sends `data` on a fresh caller connection and returns everything berth answers before it closes."""
    with socket.create_connection(berth.proxy, timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
    return out


def _errors_total(berth, cause):
    text = admin(berth, "GET", "/metrics").text
    fam = next(f for f in text_string_to_metric_families(text) if f.name == "berth_errors")
    return next(s.value for s in fam.samples if s.labels == {"cause": cause})


def test_malformed_head_is_counted_as_a_bad_request(start_berth):
    berth = start_berth(*SLOW_FLAGS)
    answer = _raw(berth, b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\nBad Header\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ") and b"Berth-Error: bad-request" in answer, answer[:200]
    assert stats(berth)["totals"]["bad_requests"] == 1


def test_malformed_head_reaches_errors_total(start_berth):
    berth = start_berth(*SLOW_FLAGS)
    _raw(berth, b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\nBad Header\r\n\r\n")
    assert stats(berth)["totals"]["errors"]["bad-request"] == 1
    assert _errors_total(berth, "bad-request") == 1


def test_slow_head_is_counted_as_a_header_timeout(start_berth):
    berth = start_berth(*SLOW_FLAGS, "--header-timeout", "300ms")
    answer = _raw(berth, b"GET http://127.0.0.1:9/ HTTP/1.1\r\n")
    assert answer.startswith(b"HTTP/1.1 408 ") and b"Berth-Error: header-timeout" in answer, answer[:200]
    assert stats(berth)["totals"]["header_timeouts"] == 1


def test_slow_head_reaches_errors_total(start_berth):
    berth = start_berth(*SLOW_FLAGS, "--header-timeout", "300ms")
    _raw(berth, b"GET http://127.0.0.1:9/ HTTP/1.1\r\n")
    assert stats(berth)["totals"]["errors"]["header-timeout"] == 1
    assert _errors_total(berth, "header-timeout") == 1


def test_request_still_waiting_at_the_drain_timeout_is_answered_shutting_down(start_berth, origin):
    """A request that never left berth (held by a pause) when the drain runs out gets 503 shutting-down, so the
    caller knows it may send it elsewhere, instead of a connection cut without an answer."""
    berth = start_berth(*SLOW_FLAGS, "--drain-timeout", "500ms")
    admin_json(berth, "POST", f"/pause?upstream={origin.hostport}&hold=30s")
    held = Background(berth, origin)
    assert wait_for(lambda: stats(berth)["totals"]["pending"] == 1)
    t0 = time.monotonic()
    berth.proc.send_signal(signal.SIGTERM)
    r = held.response()
    assert not isinstance(r, Exception), r
    assert r.status_code == 503 and r.headers.get("Berth-Error") == "shutting-down", (r.status_code, r.headers)
    assert time.monotonic() - t0 < 5
