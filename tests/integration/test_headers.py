"""Header handling: hop-by-hop stripping, Via, Host from absolute-form, Berth-Socket-Timeout."""
import re

from berthkit import RawClient, get_req, keepalive_loop, raw_request


def test_request_hop_by_hop_headers_stripped_and_via_added(berth, raw_origin):
    def respond(conn, msg):
        conn.respond(200, b"ok")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    req = (f"GET http://{o.hostport}/hdr?x=1 HTTP/1.1\r\n"
           f"Host: wrong.example:1234\r\n"
           "Connection: keep-alive, X-Custom-Hop\r\n"
           "X-Custom-Hop: secret\r\n"
           "Keep-Alive: timeout=5\r\n"
           "Proxy-Connection: keep-alive\r\n"
           "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
           "TE: trailers\r\n"
           "Trailer: X-Trailer\r\n"
           "Berth-Socket-Timeout: 2s\r\n"
           "X-End-To-End: kept\r\n"
           "Authorization: Bearer kept\r\n"
           "\r\n").encode()
    r = raw_request(b.proxy, req)
    assert r.status == 200, r
    assert len(o.requests) == 1
    _, msg = o.requests[0]
    names = [k.lower() for k, _ in msg.headers]
    for hop in ("connection", "x-custom-hop", "keep-alive", "proxy-connection", "proxy-authorization", "te",
                "trailer", "berth-socket-timeout"):
        assert hop not in names, f"{hop} was forwarded: {msg.headers}"
    assert msg.header_all("Host") == [o.hostport], msg.headers
    # The configured `1.1 berth` with this instance's token (issue 23: berth recognises its own hop).
    assert re.fullmatch(r"1\.1 berth-[0-9a-f]{8}", msg.header("Via")), msg.headers
    assert msg.header("X-End-To-End") == "kept"
    assert msg.header("Authorization") == "Bearer kept"
    assert msg.target == "/hdr?x=1", msg.target  # origin-form upstream
    assert msg.version == "HTTP/1.1"


def test_upgrade_header_without_connection_upgrade_is_stripped(berth, raw_origin):
    def respond(conn, msg):
        conn.respond(200, b"ok")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    r = raw_request(b.proxy, get_req(o.hostport, "/noup", b"Upgrade: h2c\r\n"))
    assert r.status == 200, r
    _, msg = o.requests[0]
    assert not msg.has_header("Upgrade"), msg.headers


def test_via_appended_to_existing_via(berth, raw_origin):
    def respond(conn, msg):
        conn.respond(200, b"ok")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    r = raw_request(b.proxy, get_req(o.hostport, "/via", b"Via: 1.0 fred\r\n"))
    assert r.status == 200
    _, msg = o.requests[0]
    vias = ", ".join(msg.header_all("Via"))
    assert re.fullmatch(r"1\.0fred,1\.1berth-[0-9a-f]{8}", vias.replace(" ", "")), msg.headers


def test_origin_form_routes_by_host_header(berth, origin):
    b = berth()
    r = raw_request(b.proxy, f"GET /by-host HTTP/1.1\r\nHost: {origin.hostport}\r\n\r\n".encode())
    assert r.status == 200 and r.body == b"hello /by-host", r
    assert origin.requests[0][2].get("Host") == origin.hostport


def test_response_hop_by_hop_headers_stripped(berth, raw_origin):
    """Production-proxy behaviour (RFC 9110 7.6.1) applied to responses too."""
    def respond(conn, msg):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"
                     b"Keep-Alive: timeout=99\r\nX-Resp-E2E: kept\r\n\r\nok")

    o = raw_origin(keepalive_loop(respond))
    b = berth()
    c = RawClient(b.proxy)
    try:
        r = c.request(get_req(o.hostport, "/resp"))
        assert r.status == 200 and r.body == b"ok", r
        assert r.header("X-Resp-E2E") == "kept", r
        assert r.header("X-Resp-Hop") is None, r
        # The upstream's Keep-Alive is not forwarded; berth announces its own (caller-idle-timeout 1m, less a second).
        assert r.header_all("Keep-Alive") == ["timeout=59"], r
        r = c.request(get_req(o.hostport, "/resp2"))
        assert r.status == 200, r
    finally:
        c.close()
