"""review5: an admin answer to HEAD carries no content, errors included (RFC 9110 9.3.2). Before: a HEAD answered 400,
404, 405 or 421 carried its JSON error body, which a keep-alive client (it reads no content after a HEAD) took for the
start of its next answer: the connection's answers were out of step from there. After: the head only, and the next
pipelined answer follows it directly."""
import pytest

from hostile_wire import connect, read_to_end, status_of

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("target,host,status", [
    ("/no-such-endpoint", "127.0.0.1", 404),
    ("/stats?bogus=1", "127.0.0.1", 400),
    ("/stats?q=%ff", "127.0.0.1", 400),
    ("/stats?upstream=127.0.0.1:9", "127.0.0.1", 404),
    ("/pause?upstream=127.0.0.1:9", "127.0.0.1", 405),
    ("/healthz", "rebind.example", 421),
])
def test_head_error_answer_has_no_content(berth, target, host, status):
    b = berth()
    s = connect(b.admin)
    try:
        s.sendall(f"HEAD {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() + HEALTHZ)
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert how == "fin", (how, data)
    assert status_of(data) == status, data
    head, _, rest = data.partition(b"\r\n\r\n")
    assert b"Content-Length:" in head, head
    # Right after the HEAD answer's head comes the next answer, not the error's JSON.
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest[:200]
    assert rest.endswith(b'{"status":"ok"}\n'), rest[-100:]
