"""berth's own answer to the second request of a kept-alive caller (a bad head, a header timeout) is that answer,
not the cut of the response before it. Before the fix the exchange still held the previous request's facts until
the next head began one: its response had been sent, so the answer took the path of a response cut mid-way and the
caller got a reset instead of its 400 or 408 (and the previous upstream was counted a failure)."""
from hostile_wire import assert_whole_answer_then_fin, connect, read_response, read_to_end, status_of


def relayed_first(b, origin):
    """A caller connection to `b` whose first request was relayed from `origin` and answered, the caller kept."""
    s = connect(b.proxy)
    s.sendall(f"GET http://127.0.0.1:{origin.port}/first HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n\r\n".encode())
    head, _ = read_response(s)
    assert status_of(head) == 200, head
    return s


def test_a_bad_second_head_gets_its_400(berth, origin):
    b = berth()
    s = relayed_first(b, origin)
    try:
        s.sendall(b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n")
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert_whole_answer_then_fin(data, how, 400, "bad-request")


def test_a_second_head_too_slow_gets_its_408(berth, origin):
    b = berth("--header-timeout", "500ms")
    s = relayed_first(b, origin)
    try:
        s.sendall(f"GET http://127.0.0.1:{origin.port}/second HTTP/1.1\r\n".encode())
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert_whole_answer_then_fin(data, how, 408, "header-timeout")


def test_a_bad_head_after_a_head_request_gets_a_whole_400(berth, origin):
    """The 400 is a whole answer with its body: the HEAD before it does not make it head-only."""
    b = berth()
    s = connect(b.proxy)
    try:
        s.sendall(f"HEAD http://127.0.0.1:{origin.port}/first HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\n\r\n".encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = s.recv(65536)
            assert chunk, raw
            raw += chunk
        assert status_of(raw) == 200, raw
        s.sendall(b"GET /x HTTP/1.1\r\nBad Header\r\n\r\n")
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert_whole_answer_then_fin(data, how, 400)
