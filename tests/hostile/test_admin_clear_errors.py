"""Admin answers to malformed requests and bad durations say what is wrong in words (before: Swift's case names such as
`invalidHeaderValue`, and "must be a duration" for a duration that was only too long); CONNECT is refused and closed."""
import json

import pytest

from hostile_wire import connect, exchange, read_to_end, status_of


def error_of(raw):
    return json.loads(raw.partition(b"\r\n\r\n")[2])["error"]


@pytest.mark.parametrize("request_bytes,words", [
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n", "header field value"),
    (b"GET /healthz HTTP/1.1\r\nHost: localhost:abc\r\nConnection: close\r\n\r\n", "header field value"),
    (b"GET /healthz# HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "request target"),
    (b"GET /stats?upstream=\xef\xbc\x91:1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "percent-encode"),
    (b"GET /healthz HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", "HTTP/1.1"),
    (b"GET /healthz\r\n\r\n", "version"),
    (b"G@T /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "method"),
])
def test_a_malformed_request_is_named_in_words(berth, request_bytes, words):
    b = berth()
    got = exchange(b.admin, request_bytes)
    assert status_of(got) in (400, 505), got[:300]
    message = error_of(got)
    assert words in message, message
    # A sentence, not a Swift case name alone.
    assert message.count(" ") >= 3, message


@pytest.mark.parametrize("value,words", [
    ("25h", "longer than 24h"),
    ("0.5ms", "shorter than 1ms"),
    ("500us", "ms, s, m or h"),
    ("-1s", "negative"),
    ("9999999999999999999s", "longer than 24h"),
])
def test_a_bad_duration_says_why(berth, value, words):
    b = berth()
    got = exchange(b.admin, f"POST /pause?upstream=a:1&hold={value} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status_of(got) == 400, got[:300]
    message = error_of(got)
    assert words in message and value in message, message


def test_connect_to_the_admin_port_is_refused_and_closed(berth):
    b = berth()
    s = connect(b.admin)
    try:
        # What follows a CONNECT is the tunnel's bytes (a TLS ClientHello, say), never admin requests.
        s.sendall(b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got, how = read_to_end(s, timeout=5)
    finally:
        s.close()
    assert status_of(got) == 405, got[:300]
    assert b"CONNECT" in got.partition(b"\r\n\r\n")[2], got[:300]
    assert got.count(b"HTTP/1.1 ") == 1 and how == "fin", (how, got)


def test_idle_for_says_zero_is_allowed_and_an_empty_parameter_name_is_quoted(berth):
    b = berth()
    got = exchange(b.admin, b"POST /evict?idle_for=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(got) == 400 and "0s or a duration" in error_of(got), got[:300]
    got = exchange(b.admin, b"GET /stats?=x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(got) == 400 and 'unknown parameter ""' in error_of(got), got[:300]
