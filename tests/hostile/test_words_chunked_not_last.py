"""words: a response whose Transfer-Encoding names chunked but not last (`chunked, gzip`) is close-delimited (RFC 9112
6.3), yet a client that takes any `chunked` for the framing reads its bytes as chunks: a `0` line ends the message
early and what follows passes for the answer to its next request. Before: berth forwarded it with the coding as sent.
Now 502 `invalid-response` (as HAProxy; nginx 1.22 chunks it a second time, which RFC 9112 6.1 forbids), nothing of
it reaches the caller. A coding list without chunked (`gzip`) still goes to an HTTP/1.1 caller as it came, read until
the upstream's close, and the caller's connection then closes too."""
import pytest

from hostile_wire import connect, header_of, read_to_end, status_of

# After the fake last chunk, a whole response a chunked reader would take for the next one.
FAKE = b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"


def _serve(response):
    def handler(conn):
        conn.read_request_head()
        conn.sendall(response)
    return handler


def _exchange(b, o):
    """A GET for `o` with a second GET (the connection's last) pipelined behind it; (berth's bytes, how it ended)."""
    req = f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n"
    s = connect(b.proxy)
    try:
        s.sendall(f"{req}\r\n{req}Connection: close\r\n\r\n".encode())
        return read_to_end(s, timeout=5)
    finally:
        s.close()


@pytest.mark.parametrize("codings", [
    b"Transfer-Encoding: chunked, gzip\r\n",
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
    b"Transfer-Encoding: chunked, identity\r\n",
    b"Transfer-Encoding: CHUNKED ,gzip\r\n",
], ids=["one-line", "two-lines", "identity", "spelling"])
def test_chunked_not_last_in_a_response_is_502_and_nothing_of_it_passes(berth, raw_origin, codings):
    o = raw_origin(_serve(b"HTTP/1.1 200 OK\r\n" + codings + b"\r\n" + FAKE))
    b = berth()
    raw, how = _exchange(b, o)
    assert status_of(raw) == 502 and how == "fin", (how, raw)
    assert header_of(raw, "Berth-Error") == "invalid-response", raw
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"smuggled" not in raw and header_of(raw, "Transfer-Encoding") is None, raw
    assert b"names chunked, but not as the last coding" in body, body


def test_codings_without_chunked_go_as_they_came_and_the_caller_closes(berth, raw_origin):
    o = raw_origin(_serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n" + FAKE))
    b = berth()
    raw, how = _exchange(b, o)
    assert status_of(raw) == 200, raw
    assert header_of(raw, "Transfer-Encoding") == "gzip", raw
    assert header_of(raw, "Connection") == "close", raw
    # The body is the upstream's bytes to its close, and the connection ends there: the pipelined GET is not answered
    # on it, so nothing after the body can pass for its answer.
    assert raw.endswith(b"\r\n\r\n" + FAKE) and raw.count(b"HTTP/1.1 200") == 2, raw
    assert how == "fin", how
