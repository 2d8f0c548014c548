"""review5: a caller that sends a whole request with a body, then half-closes (shutdown(SHUT_WR), `nc -N`, an HTTP/1.0
client ending its request with the FIN) before berth relayed that body (queued behind a pause or a limit, or while its
connection was being opened) sent a complete request. Before: berth took its FIN for an abort mid-body and closed the
connection without a byte (no status, nothing at the origin). After: the request goes out and the answer comes back."""
import socket
import time

from berthkit import admin, keepalive_loop, stats, wait_for
from hostile_wire import connect, read_to_end, status_of


def _echo_length(conn, msg):
    conn.respond(200, b"got %d bytes: %s" % (len(msg.body or b""), msg.body or b""))


def _held_request(b, o, raw, whole=True):
    """Sends `raw` and a FIN while the origin's upstream is paused (the request waits in the queue with its body
    still in berth's input), resumes, and returns everything berth answered, until its FIN. A request that is not
    `whole` may leave the queue at its FIN, so it is not waited for there."""
    assert admin(b.admin, "POST", f"/pause?upstream={o.hostport}").status == 200
    s = connect(b.proxy)
    try:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        if whole:
            wait_for(lambda: stats(b, upstream=o.hostport)["upstreams"][0]["pending"] == 1, timeout=5,
                     what="the request to wait in the paused upstream's queue")
        time.sleep(0.2)  # not a timing assertion: lets berth read the FIN while the request still waits
        assert admin(b.admin, "POST", f"/resume?upstream={o.hostport}").status == 200
        data, how = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert how == "fin", (how, data)
    return data


def test_content_length_body_then_fin_while_queued(berth, raw_origin):
    o = raw_origin(keepalive_loop(_echo_length))
    b = berth()
    data = _held_request(b, o, f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                               f"Content-Length: 5\r\n\r\nhello".encode())
    assert status_of(data) == 200, data
    assert data.endswith(b"got 5 bytes: hello"), data


def test_chunked_body_then_fin_while_queued(berth, raw_origin):
    o = raw_origin(keepalive_loop(_echo_length))
    b = berth()
    data = _held_request(b, o, f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                               f"Transfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\nT: 1\r\n\r\n".encode())
    assert status_of(data) == 200, data
    assert data.endswith(b"got 5 bytes: hello"), data


def test_http10_body_then_fin_while_queued(berth, raw_origin):
    o = raw_origin(keepalive_loop(_echo_length))
    b = berth()
    data = _held_request(b, o, f"POST http://{o.hostport}/up HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello".encode())
    assert status_of(data) == 200, data
    assert data.endswith(b"got 5 bytes: hello"), data


def test_body_cut_by_fin_is_still_an_abort(berth, raw_origin):
    """A FIN before the body is whole stays an abort: no answer, and the origin never gets a request."""
    o = raw_origin(keepalive_loop(_echo_length))
    b = berth()
    data = _held_request(b, o, f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                               f"Content-Length: 10\r\n\r\nhello".encode(), whole=False)
    assert data == b"", data
    chunked = _held_request(b, o, f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\n"
                                  f"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".encode(), whole=False)
    assert chunked == b"", chunked
    assert o.requests == []
