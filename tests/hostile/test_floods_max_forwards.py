"""Max-Forwards on TRACE and OPTIONS (RFC 9110 7.6.2): a proxy MUST NOT forward such a request whose Max-Forwards is
0 but answer it as the final recipient, and MUST forward a larger value decremented by one. berth forwarded both
unchanged, so a `Max-Forwards: 0` probe of the path reached the origin and a loop counted nothing down. Other methods
and a value that is not a number go on unchanged (the field applies to TRACE and OPTIONS only)."""
from berthkit import RawClient, get_req, keepalive_loop


def _origin(raw_origin):
    return raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"origin")))


def test_options_with_max_forwards_0_is_answered_by_berth_and_the_connection_kept(berth, raw_origin):
    o = _origin(raw_origin)
    b = berth()
    c = RawClient(b.proxy, timeout=5)
    r = c.request(get_req(o.hostport, "/", method="OPTIONS", extra=b"Max-Forwards: 0\r\n"), "OPTIONS")
    assert r.status == 200 and r.body == b"", (r.start_line, r.headers, r.body)
    assert "OPTIONS" in r.header("Allow", "") and r.header("Berth-Error") is None, r.headers
    assert o.requests == [], [m.start_line for _, m in o.requests]
    # The connection goes on: the next request reaches the origin.
    assert c.request(get_req(o.hostport, "/next")).body == b"origin"
    c.close()


def test_trace_with_max_forwards_0_echoes_the_request_without_its_credentials(berth, raw_origin):
    o = _origin(raw_origin)
    b = berth()
    c = RawClient(b.proxy, timeout=5)
    extra = b"Max-Forwards: 0\r\nAuthorization: Basic c2VjcmV0\r\nCookie: s=1\r\nX-Probe: yes\r\n"
    r = c.request(get_req(o.hostport, "/path", method="TRACE", extra=extra), "TRACE")
    assert r.status == 200 and r.header("Content-Type") == "message/http", (r.start_line, r.headers)
    assert r.body.startswith(f"TRACE http://{o.hostport}/path HTTP/1.1\r\n".encode()), r.body
    assert b"X-Probe: yes\r\n" in r.body and b"Max-Forwards: 0\r\n" in r.body, r.body
    assert b"c2VjcmV0" not in r.body and b"s=1" not in r.body, r.body
    assert o.requests == [], [m.start_line for _, m in o.requests]
    c.close()


def test_a_larger_max_forwards_is_forwarded_decremented_once(berth, raw_origin):
    o = _origin(raw_origin)
    b = berth()
    c = RawClient(b.proxy, timeout=5)
    for method, sent, seen in [("OPTIONS", "5", ["4"]), ("TRACE", "1", ["0"]), ("OPTIONS", "007", ["6"]),
                               ("GET", "0", ["0"]), ("OPTIONS", "x1", ["x1"])]:
        o.requests.clear()
        r = c.request(get_req(o.hostport, "/", method=method, extra=f"Max-Forwards: {sent}\r\n".encode()), method)
        assert r.body == b"origin", (method, sent, r.start_line, r.body)
        assert [m.header_all("Max-Forwards") for _, m in o.requests] == [seen], (method, sent, o.requests)
    c.close()
