"""An upstream's Berth-Error header is not passed off as berth's own (issue 23, item 13): it arrives renamed."""
import pytest

from hostile_wire import connect, header_of, read_response, status_of


def header_lines(head):
    return [line for line in head.split(b"\r\n")[1:] if line]


@pytest.mark.parametrize("status,spelling", [(200, "Berth-Error"), (502, "berth-error"), (503, "BERTH-ERROR")])
def test_an_upstream_berth_error_is_renamed(berth, raw_origin, status, spelling):
    """A chained berth (or anything else upstream) says Berth-Error: the caller gets it as Berth-Upstream-Error, with
    its value, and no Berth-Error it could take for this berth's own cause."""
    def handler(conn):
        conn.read_request()
        conn.sendall(f"HTTP/1.1 {status} X\r\nX-Before: 1\r\n{spelling}: upstream-reset\r\nX-After: 2\r\n"
                     f"{spelling}: pool-timeout\r\nContent-Length: 2\r\n\r\nok".encode())

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    head, body = read_response(c)
    c.close()
    assert status_of(head) == status and body == b"ok"
    lines = header_lines(head)
    assert not any(l.lower().startswith(b"berth-error:") for l in lines), head
    assert lines[:4] == [b"X-Before: 1", b"Berth-Upstream-Error: upstream-reset", b"X-After: 2",
                         b"Berth-Upstream-Error: pool-timeout"], head


def test_berths_own_answer_still_carries_berth_error(berth):
    """The rename is for relayed heads only: an answer of berth's own keeps its Berth-Error."""
    b = berth()
    c = connect(b.proxy)
    c.sendall(b"GET http://127.0.0.1:9/ HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n")
    head, _ = read_response(c)
    c.close()
    assert header_of(head, "Berth-Error") == "connect-refused", head
    assert header_of(head, "Berth-Upstream-Error") is None
