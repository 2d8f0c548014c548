"""Review probes of the bounds (issue 23 items 7, 10, 12): tunnels and the table of destinations, names, drains."""
import socket

import pytest

from berthkit import admin_json, get_req
from hostile_wire import connect, header_of, read_to_end, status_of


def test_a_flood_of_connects_to_distinct_destinations_keeps_the_table_at_max_upstreams(berth):
    """CONNECT tunnels count against a pool of their own (the destination's plain one); that pool was made without
    the max-upstreams cap, so distinct CONNECT targets grew the table without bound."""
    b = berth("--max-upstreams", "20", "--connect-port", "9")
    causes = {}
    for i in range(60):
        c = connect(b.proxy)
        target = f"127.0.{2 + i // 250}.{1 + i % 250}:9"
        c.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        raw, _ = read_to_end(c, timeout=10)
        c.close()
        cause = header_of(raw, "Berth-Error")
        causes[cause] = causes.get(cause, 0) + 1
    assert causes == {"connect-refused": 60}, causes
    stats = admin_json(b, "GET", "/stats")
    assert stats["totals"]["upstreams"] <= 20, f"{stats['totals']['upstreams']} upstreams known past max-upstreams 20"


def test_trailing_dot_spellings_of_berths_own_address_are_loops(berth):
    b = berth()
    for name in ("127.0.0.1.", "localhost.", "LOCALHOST."):
        for (_, port) in (b.proxy, b.admin):
            c = connect(b.proxy)
            c.sendall(f"GET http://{name}:{port}/stats HTTP/1.1\r\nHost: {name}:{port}\r\nConnection: close\r\n\r\n".encode())
            raw, _ = read_to_end(c, timeout=15)
            c.close()
            assert status_of(raw) == 508, (name, port, raw[:300])


def test_lone_dots_are_bad_requests(berth):
    b = berth()
    for name in (".", "..", "a..", ".a"):
        c = connect(b.proxy)
        c.sendall(f"GET http://{name}:80/ HTTP/1.1\r\nHost: {name}:80\r\nConnection: close\r\n\r\n".encode())
        raw, _ = read_to_end(c, timeout=15)
        c.close()
        assert status_of(raw) == 400, (name, raw[:300])


def test_a_second_sigterm_and_a_sighup_during_the_drain_change_nothing(berth, origin):
    """During a drain a second SIGTERM is ignored and a SIGHUP reloads without ending it: the held request is still
    served when the pause lifts, and berth then exits 0."""
    import signal
    import time
    from berthkit import wait_for
    from test_bounds_drain import SLOW, Caller, _readyz
    b = berth("--workers", "2", *SLOW)
    admin_json(b, "POST", f"/pause?upstream={origin.hostport}&hold=30s")
    held = [Caller(b, get_req(origin.hostport, f"/held/{i}")) for i in range(3)]
    wait_for(lambda: admin_json(b, "GET", "/stats")["totals"]["pending"] == 3, timeout=10, what="three held")
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    b.proc.send_signal(signal.SIGTERM)
    b.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert b.proc.poll() is None, b.stderr_text()
    assert _readyz(b) == (503, {"status": "draining"})
    admin_json(b, "POST", f"/resume?upstream={origin.hostport}")
    for i, caller in enumerate(held):
        r, rest = caller.response()
        assert r.status == 200 and r.body == f"hello /held/{i}".encode(), r
        assert rest == b""
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()


def _kernel_send_buffer_max():
    """The most a TCP send buffer grows to (tcp_wmem's third field): what the kernel holds for a caller that does not
    read, before berth's own buffer fills."""
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        return int(f.read().split()[2])


@pytest.mark.parametrize("beyond", [100_000, 200_000])
def test_sigterm_does_not_cut_a_finished_response_still_waiting_for_a_slow_caller(berth, raw_origin, beyond):
    """A response whose every byte came from the upstream, with its tail still in berth's buffer because the caller
    has not read it, is accepted work: SIGTERM lets it go out within the drain. Before, the session counted as idle
    (between requests) and was closed at once: the buffered tail was dropped and the caller got a FIN."""
    import signal
    import time
    # The kernel holds about its send buffer's maximum plus the caller's receive buffer; `beyond` more stays in
    # berth's buffer (under its high-water mark, so the upstream is read to the end and the exchange finishes).
    total = _kernel_send_buffer_max() + 131072 + beyond

    def big(conn):
        conn.read_request()
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode() + b"y" * total)
        time.sleep(8)
    b = berth("--drain-timeout", "10s")
    o = raw_origin(big)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.settimeout(20)
    c.connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(1.5)
    b.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    raw, how = read_to_end(c, timeout=20)
    c.close()
    body = raw.partition(b"\r\n\r\n")[2]
    assert status_of(raw) == 200, raw[:200]
    assert len(body) == total, f"SIGTERM cut a finished response: {len(body)} of {total} bytes, then {how}"
    assert b.proc.wait(timeout=15) == 0


def test_a_connect_past_a_full_table_gets_503_too_many_upstreams_and_closes(berth, origin):
    b = berth("--max-upstreams", "1", "--connect-port", "9")
    admin_json(b, "POST", f"/pause?upstream={origin.hostport}&hold=30s")
    c = connect(b.proxy)
    c.sendall(b"CONNECT 127.0.0.7:9 HTTP/1.1\r\nHost: 127.0.0.7:9\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    raw, how = read_to_end(c, timeout=10)
    c.close()
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "too-many-upstreams", raw
    assert how == "fin" and raw.count(b"HTTP/1.1") == 1, (how, raw)
    assert admin_json(b, "GET", "/stats")["totals"]["upstreams"] == 1
