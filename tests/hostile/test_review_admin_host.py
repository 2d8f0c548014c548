"""Review of the admin Host check: an absolute-form target names the host the request is for, whatever Host says."""
import socket

from hostile_wire import connect, header_of, read_to_end, status_of


def _ask(b, raw):
    """Sends one request that ends the connection; berth's whole answer."""
    s = connect(b.admin)
    try:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data, how = read_to_end(s)
        assert how == "fin", (how, data[:300])
        return data
    finally:
        s.close()


def test_absolute_form_for_another_site_is_refused_though_host_is_an_address(berth):
    """RFC 9112 3.2.2: a server MUST ignore Host and use the absolute-form target's authority, so the request is for
    evil.example and gets 421 like `Host: evil.example` does, and /stats stays unread."""
    b = berth()
    raw = _ask(b, b"GET http://evil.example/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 421, raw[:300]
    assert b'"totals"' not in raw, raw[:300]
    raw = _ask(b, b"POST http://rebind.example:9901/pause?upstream=a:1 HTTP/1.1\r\nHost: localhost\r\n"
                  b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 421, raw[:300]


def test_absolute_form_naming_an_address_is_answered_whatever_host_says(berth):
    """The same rule the other way: the target's authority is what is checked."""
    b = berth()
    port = b.admin[1]
    for target in (f"http://127.0.0.1:{port}/healthz", f"http://[::1]:{port}/healthz", "http://localhost/healthz"):
        raw = _ask(b, f"GET {target} HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n".encode())
        assert status_of(raw) == 200, (target, raw[:300])
        assert header_of(raw, "Content-Type") == "application/json", raw[:300]
