"""An HTTP/1.0 caller asking for keep-alive is told when its connection stays open after an answer of berth's own: the
proxy's 502s and OPTIONS answers and the admin's answers say `Connection: keep-alive` whenever they keep it, as the
forwarded ones do (RFC 9112 9.3: without it the answer is the connection's last; a 1.0 client reads to the close)."""
import socket

from berthkit import free_port
from hostile_wire import connect, header_of, read_response, status_of


def ask_twice(addr, first, second):
    """Sends `first` on a fresh connection, reads its answer, then `second` on the same connection: (head, answer)."""
    s = connect(addr, timeout=3)
    try:
        s.sendall(first)
        head, _ = read_response(s)
        s.sendall(second)
        try:
            again, _ = read_response(s)
        except (AssertionError, OSError, socket.timeout) as e:
            again = repr(e).encode()
        return head, again
    finally:
        s.close()


def test_a_proxy_502_kept_for_an_http10_keep_alive_caller_says_so(berth):
    b = berth()
    dead = f"127.0.0.1:{free_port()}"
    req = f"GET http://{dead}/ HTTP/1.0\r\nHost: {dead}\r\nConnection: keep-alive\r\n\r\n".encode()
    head, again = ask_twice(b.proxy, req, req)
    assert (status_of(head), header_of(head, "Berth-Error")) == (502, "connect-refused"), head
    assert (header_of(head, "Connection") or "").lower() == "keep-alive", (
        f"berth kept the connection (its second answer: {again[:60]!r}) but its first said nothing: {head!r}")
    assert status_of(again) == 502, again


def test_an_options_answer_kept_for_an_http10_keep_alive_caller_says_so(berth, raw_origin):
    b = berth()
    o = raw_origin(lambda conn: None)
    req = (f"OPTIONS http://{o.hostport}/ HTTP/1.0\r\nHost: {o.hostport}\r\nMax-Forwards: 0\r\n"
           f"Connection: keep-alive\r\n\r\n").encode()
    head, again = ask_twice(b.proxy, req, req)
    assert status_of(head) == 200, head
    assert (header_of(head, "Connection") or "").lower() == "keep-alive", (head, again[:60])
    assert status_of(again) == 200, again


def test_an_admin_answer_kept_for_an_http10_keep_alive_client_says_so(berth):
    b = berth()
    req = b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"
    head, again = ask_twice(b.admin, req, req)
    assert status_of(head) == 200, head
    assert (header_of(head, "Connection") or "").lower() == "keep-alive", (head, again[:60])
    assert status_of(again) == 200, again
