"""review11: at a drain, empty lines after a request are not a pipelined request (docs/reliability.md items 67 and 90).

Item 67 serves a request already buffered behind an answer that went out keep-alive before a SIGTERM, its answer
saying close. Some clients end a request with a stray CRLF (RFC 9112 2.2 lets a server skip empty lines before a
request line). Buffered behind the answer, those two bytes counted as a request owed: berth waited for a head that
never came until `header-timeout`, then sent a 408 nobody asked for (counted as an error), and the drain lasted that
long instead of ending with the answer. Before: a 408 after the 200, the drain as long as header-timeout."""
import signal
import time

from hostile_wire import connect, read_to_end


def _slow_body(conn):
    """Each answer's head and half its body at once, the rest 0.3 s later, keep-alive."""
    while not conn.origin.stopped.is_set():
        msg = conn.read_request()
        if msg is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nok")
        time.sleep(0.3)
        conn.sendall(b"ok")


def test_a_stray_crlf_behind_an_answer_at_a_drain_is_no_request(berth, raw_origin):
    o = raw_origin(_slow_body)
    for tail in (b"\r\n", b"\r\n\r\n\r\n"):
        b = berth("--drain-timeout", "8s", "--header-timeout", "3s")
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(f"GET http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode() + tail)
            time.sleep(0.1)  # the answer's head went out keep-alive; its body is still coming
            b.proc.send_signal(signal.SIGTERM)
            data, how = read_to_end(s, timeout=15)
        finally:
            s.close()
        assert how == "fin", (tail, how, data[-200:])
        assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nokok"), (tail, data[-300:])
        assert data.count(b"HTTP/1.1 ") == 1, (tail, data)
        assert b.proc.wait(timeout=15) == 0, b.stderr_text()
        assert "header-timeout" not in b.stderr_text(), b.stderr_text()[-800:]


def test_a_caller_that_sent_only_a_crlf_since_its_answer_closes_at_the_drain(berth, raw_origin):
    """The stray CRLF came after the answer, before the SIGTERM: the caller is between requests, closed at once.
    Before: held until header-timeout, then a 408."""
    o = raw_origin(lambda conn: [conn.respond(200, b"ok") for _ in iter(conn.read_request, None)])
    b = berth("--drain-timeout", "8s", "--header-timeout", "3s")
    s = connect(b.proxy, timeout=10)
    try:
        s.sendall(f"GET http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200"), first
        s.sendall(b"\r\n")
        time.sleep(0.1)
        b.proc.send_signal(signal.SIGTERM)
        data, how = read_to_end(s, timeout=15)
    finally:
        s.close()
    assert (data, how) == (b"", "fin"), (data, how)
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()
    assert "header-timeout" not in b.stderr_text(), b.stderr_text()[-800:]
