"""smug2: a chunked request body is never sent to an upstream that answered berth in HTTP/1.0.

RFC 9112 6.1: a client MUST NOT send Transfer-Encoding unless it knows the server handles HTTP/1.1, and a prior
response's version is such knowledge. An HTTP/1.0 server knows no chunked framing: a request without Content-Length
has no body to it, so the chunk lines and data that follow the head are its next request (a request smuggled in the
body) and the POST is served without its content. berth forwarded the chunked body on the connection whose last answer
was `HTTP/1.0` (HAProxy 2.6 does the same; nginx 1.22 buffers the body and sends it with a Content-Length). Now an
upstream whose last final answer was HTTP/1.0 gets no chunked request: berth answers 411 and closes the caller.
"""
import threading

from hostile_wire import connect, header_of, read_response, read_to_end, status_of


def http10_origin(seen):
    """An HTTP/1.0 keep-alive server that knows no Transfer-Encoding; each request head's first line goes to `seen`."""
    lock = threading.Lock()

    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            with lock:
                seen.append(f"{msg.method} {msg.target}")
            n = int(msg.header("Content-Length") or 0)
            if n:
                conn.read_exact(n)
            conn.sendall(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok")

    return handler


def test_a_chunked_body_is_refused_for_an_upstream_that_answered_in_http10(berth, raw_origin):
    seen = []
    b = berth()
    o = raw_origin(http10_origin(seen))
    s = connect(b.proxy)
    s.sendall(f"GET http://{o.hostport}/warm HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    head, body = read_response(s)
    assert status_of(head) == 200 and body == b"ok", head
    smuggled = f"GET /SMUGGLED HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n"
    s.sendall(f"POST http://{o.hostport}/p HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n\r\n"
              f"{len(smuggled):x}\r\n{smuggled}\r\n0\r\n\r\n".encode())
    raw, how = read_to_end(s, timeout=5)
    s.close()
    assert status_of(raw) == 411 and header_of(raw, "Connection") == "close" and how == "fin", raw
    assert seen == ["GET /warm"], seen


def test_a_content_length_body_still_goes_to_that_upstream(berth, raw_origin):
    seen = []
    b = berth()
    o = raw_origin(http10_origin(seen))
    s = connect(b.proxy)
    s.sendall(f"GET http://{o.hostport}/warm HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    head, _ = read_response(s)
    s.sendall(f"POST http://{o.hostport}/p HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 5\r\n\r\nhello".encode())
    head, body = read_response(s)
    s.close()
    assert status_of(head) == 200 and body == b"ok", head
    assert seen == ["GET /warm", "POST /p"], seen
