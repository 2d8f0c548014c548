"""adv11: with `--workers N` an upstream's per-upstream counters in /metrics and /stats are the sum of
the shares of the workers that know it, and a worker that forgets its share (its table full at `--max-upstreams`, or
ten quiet minutes on that worker alone) takes its share's counts out of the sum while the other workers keep serving
the upstream. `berth_requests_total{upstream="U"}` then goes down (40 to 22 in the probe) without the upstream ever
being forgotten: Prometheus reads a counter reset, and `increase()`/`rate()` add the whole remaining value as new
requests (or failures, for `berth_upstream_failures_total`, which can fire an error-rate alert). The totals stay
right (forgotten shares are kept in them). Now a forgetting worker's share is offered to the others, and the first
that still knows the upstream takes it into its pool and out of its own forgotten totals in one step on its loop."""
import socket

from berthkit import admin, admin_json, keepalive_loop, wait_for

MAX_UPSTREAMS = 8


class CounterWentDown(AssertionError):
    """The defect itself, told apart from a failed precondition."""


def _get(s, authority):
    s.sendall(f"GET http://{authority}/ HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        assert d, f"berth closed the connection answering {authority}"
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0]
    while len(body) < length:
        body += s.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head


def _requests_of(b, upstream):
    text = admin(b, "GET", "/metrics?upstreams=all").text
    line = f'berth_requests_total{{upstream="{upstream}"}} '
    values = [float(l[len(line):]) for l in text.splitlines() if l.startswith(line)]
    return values[0] if values else None


def test_a_per_upstream_counter_never_goes_down_while_the_upstream_is_served(berth, raw_origin):
    ok = keepalive_loop(lambda conn, msg: conn.respond(200, b"ok"))
    main = raw_origin(ok)
    others = [raw_origin(ok, host=f"127.0.0.{n}") for n in range(2, 2 + MAX_UPSTREAMS)]
    b = berth("--workers", "2", "--max-upstreams", str(MAX_UPSTREAMS))
    up = f"127.0.0.1:{main.port}"
    # Forty fresh connections: SO_REUSEPORT spreads them, so both workers serve the upstream and hold a share.
    for _ in range(40):
        s = socket.create_connection(b.proxy)
        _get(s, up)
        s.close()
    admin_json(b, "POST", f"/evict?upstream={up}")
    before = _requests_of(b, up)
    assert before == 40
    # One kept connection, so one worker: a table's worth of other upstreams, each keeping an idle connection; the
    # last makes the worker forget its share of `up`, the only one it may, while the other worker keeps its own.
    s = socket.create_connection(b.proxy)
    for o in others:
        _get(s, f"{o.host}:{o.port}")
    s.close()
    # The share moves on the other worker's next loop turn: wait for it, then it must be all there, and counted once.
    try:
        wait_for(lambda: (_requests_of(b, up) or 0) >= before, timeout=5, what="the forgotten share taken back")
    except AssertionError:
        raise CounterWentDown(f"berth_requests_total{{upstream={up!r}}} went from {before} to {_requests_of(b, up)}")
    assert _requests_of(b, up) == before
    totals = admin_json(b, "GET", "/stats")["totals"]
    assert totals["requests"] == 40 + MAX_UPSTREAMS, totals["requests"]
    assert totals["requests_received"] == 40 + MAX_UPSTREAMS, totals
