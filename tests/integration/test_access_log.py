"""The access log (issue 20 item 6): pool facts, attempts, timings and the trace id of each request, the same fields
in logfmt and JSON, and nothing a hostile request sends can forge a line. Fields: docs/configuration.md "Access log"."""
import json
import re
import time

import pytest

from berth_helpers import RawClient, get_req, keepalive_loop, raw_request, wait_for, wait_upstream

FORMATS = ["logfmt", "json"]
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
_LOGFMT_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)(?: |$)')
# How each format writes a value that is not there, a number of milliseconds, a list.
_NONE = {"logfmt": "-", "json": None}


def _parse(line, fmt):
    """One log line as a dict of its fields, in order; a logfmt line must be nothing but fields."""
    if fmt == "json":
        return json.loads(line)
    fields = _LOGFMT_FIELD.findall(line)
    assert "".join(f"{k}={v} " for k, v in fields).rstrip() == line, f"not a clean logfmt line: {line!r}"
    return {k: json.loads(v) if v.startswith('"') else v for k, v in fields}


def access_lines(b, fmt, count):
    """Waits for `count` access lines on berth's stderr and returns them parsed; every stderr line must parse."""
    def lines():
        out = []
        for line in b.stderr_text().splitlines():
            doc = _parse(line, fmt)
            if doc.get("msg") == "access":
                out.append(doc)
        return out

    wait_for(lambda: len(lines()) >= count, what=f"{count} access lines")
    found = lines()
    assert len(found) == count, found
    return found


def ms(value):
    """A milliseconds field (three decimals in both formats) as a float."""
    assert re.fullmatch(r"\d+\.\d{3}", str(value) if isinstance(value, str) else f"{value:.3f}"), value
    return float(value)


def attempts(doc, fmt):
    return doc["attempts"] if fmt == "json" else doc["attempts"].split(",")


def reused(doc, fmt):
    return doc["reused"] if fmt == "json" else {"true": True, "false": False}[doc["reused"]]


def answering(raw_origin):
    return raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok " + msg.target.encode())))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fresh_then_a_reused_connection(berth, raw_origin, fmt):
    """The first request opens a connection (connect time, no idle time); the second reuses it after 0.3 s idle,
    and its line says so: its age covers its idle time, both are of the same epoch, one attempt each."""
    o = answering(raw_origin)
    b = berth("--access-log", "--log-format", fmt, "--idle-timeout", "30s")
    assert raw_request(b.proxy, get_req(o.hostport, "/one")).status == 200
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="connection idle")
    time.sleep(0.3)
    assert raw_request(b.proxy, get_req(o.hostport, "/two")).status == 200
    first, second = access_lines(b, fmt, 2)
    for doc, target in ((first, "/one"), (second, "/two")):
        assert doc["target"] == f"http://{o.hostport}{target}" and doc["upstream"] == o.hostport
        assert str(doc["status"]) == "200" and doc["method"] == "GET" and str(doc["epoch"]) == "1"
        assert attempts(doc, fmt) == ["first"] and doc["berth_error"] == _NONE[fmt]
        assert doc["trace_id"] == _NONE[fmt] and doc["generation"] == _NONE[fmt]
        assert ms(doc["total_ms"]) >= ms(doc["ttfb_ms"]) and ms(doc["acquire_ms"]) == 0
    assert reused(first, fmt) is False and first["conn_idle_ms"] == _NONE[fmt]
    assert ms(first["connect_ms"]) > 0 and ms(first["conn_age_ms"]) < ms(first["total_ms"])
    assert reused(second, fmt) is True and second["connect_ms"] == _NONE[fmt]
    # Lower bounds only: the connection slept 0.3 s in the pool, and it is older than its idle time.
    assert ms(second["conn_idle_ms"]) >= 300 and ms(second["conn_age_ms"]) >= ms(second["conn_idle_ms"])


def stale_on_second(raw_origin):
    """Each connection answers its first request, then reads the second and closes without a byte (the keep-alive
    race): berth sends that request again on a fresh connection."""
    def handler(conn):
        for n in (1, 2):
            msg = conn.read_request()
            if msg is None or n == 2:
                return
            conn.respond(200, b"first on this connection")

    return raw_origin(handler)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_stale_connection_retry_lists_both_attempts(berth, raw_origin, fmt):
    """A GET whose pooled connection closed under it goes again on a fresh one: `attempts` names the retry's reason
    (`idempotent`), the pool facts describe the reused connection, and `connect_ms` the fresh one."""
    o = stale_on_second(raw_origin)
    b = berth("--access-log", "--log-format", fmt, "--idle-timeout", "30s")
    assert raw_request(b.proxy, get_req(o.hostport, "/prime")).status == 200
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="connection idle")
    assert raw_request(b.proxy, get_req(o.hostport, "/run")).status == 200
    _, retried = access_lines(b, fmt, 2)
    assert attempts(retried, fmt) == ["first", "idempotent"], retried
    assert reused(retried, fmt) is True and ms(retried["conn_idle_ms"]) >= 0 and ms(retried["connect_ms"]) > 0


def test_a_post_replayed_under_replay_unread(berth, raw_origin):
    o = stale_on_second(raw_origin)
    b = berth("--access-log", "--log-format", "json", "--replay", "unread", "--idle-timeout", "30s")
    assert raw_request(b.proxy, get_req(o.hostport, "/prime")).status == 200
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="connection idle")
    r = raw_request(b.proxy, get_req(o.hostport, "/run", method="POST", body=b"payload"), method="POST")
    assert r.status == 200
    _, replayed = access_lines(b, "json", 2)
    assert replayed["attempts"] == ["first", "unread"] and replayed["bytes_in"] == 7 and replayed["method"] == "POST"


@pytest.mark.parametrize("fmt", FORMATS)
def test_traceparent_gives_its_trace_id_and_garbage_gives_nothing(berth, raw_origin, fmt):
    """A valid traceparent's trace id is logged; a malformed one (a forging attempt included) logs nothing of it;
    either way the header is forwarded exactly as it came."""
    o = answering(raw_origin)
    b = berth("--access-log", "--log-format", fmt)
    forged = '00-4bf92f3577b34da6a3ce929d0e0e4736"} x=1 "trace_id":"ff-00f067aa0ba902b7-01'
    sent = [TRACEPARENT, forged, TRACEPARENT.upper(), f"00-{'0' * 32}-00f067aa0ba902b7-01"]
    for value in sent:
        r = raw_request(b.proxy, get_req(o.hostport, "/t", extra=f"traceparent: {value}\r\n".encode()))
        assert r.status == 200
    lines = access_lines(b, fmt, len(sent))
    assert [d["trace_id"] for d in lines] == [TRACE_ID] + [_NONE[fmt]] * 3
    assert [m.header("traceparent") for _, m in o.requests] == sent
    for d in lines:
        assert "x" not in d and set(d) == set(lines[0]), "no field was forged"


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_values_stay_inside_their_field(berth, raw_origin, fmt):
    """A target with `=`, a quote (percent-encoded) and a space-like `+`, a method of odd token characters and a very
    long target: each line still parses into exactly the table's fields, the values come back unchanged, and the long
    one is capped. (The codec refuses CR, LF, raw quotes and control bytes in a request line, 400 before any exchange;
    AccessLogTests checks their escaping on the writer itself.)"""
    o = answering(raw_origin)
    b = berth("--access-log", "--log-format", fmt)
    odd = "/a=1+b%22c?q=x=y&r=\\"
    long = "/" + "a" * 3000
    c = RawClient(b.proxy)
    try:
        for method, path in (("GET", odd), ("X'|^`~", "/m"), ("GET", long)):
            c.sendall(f"{method} http://{o.hostport}{path} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
            assert c.read_response().status == 200
    finally:
        c.close()
    quoted, method, capped = access_lines(b, fmt, 3)
    assert set(quoted) == set(method) == set(capped)
    assert quoted["target"] == f"http://{o.hostport}{odd}" and method["method"] == "X'|^`~"
    assert capped["target"] == f"http://{o.hostport}{long}"[:256] + "..."


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_generation_a_request_named_is_logged(berth, raw_origin, fmt):
    """`generation` is the Berth-Generation the request named (stripped before forwarding), and none without one."""
    o = answering(raw_origin)
    b = berth("--access-log", "--log-format", fmt)
    named = raw_request(b.proxy, get_req(o.hostport, "/g", extra=b"Berth-Generation: c0ffee-1\r\n"))
    assert named.status == 200
    assert raw_request(b.proxy, get_req(o.hostport, "/none")).status == 200
    first, second = access_lines(b, fmt, 2)
    assert first["generation"] == "c0ffee-1" and second["generation"] == _NONE[fmt]
    assert all(m.header("berth-generation") is None for _, m in o.requests)
