"""drain: at a SIGTERM, every answer after which berth closes the caller says so with `Connection: close`.

A caller pipelines several requests in one write to a slow origin and berth is told to stop while the first is in
flight. berth answers what it accepted, then sends a FIN; the answer it ends on must carry `Connection: close`, as a
production proxy marks the last answer it will give (a client that sees keep-alive and then a FIN may take the close
for a failure and retry elsewhere). Before the fix the last answer had no `Connection: close`."""
import signal
import time

from hostile_wire import connect, header_of, read_to_end


def _slow_body(conn):
    """An origin sending each answer's head and half its body at once, the rest 0.3 s later, keep-alive."""
    while not conn.origin.stopped.is_set():
        msg = conn.read_request()
        if msg is None:
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Path: %s\r\n\r\nok"
                     % msg.target.rsplit("/", 1)[-1].encode())
        time.sleep(0.3)
        conn.sendall(b"ok")


def _slow_head(conn):
    """An origin answering each request 0.3 s after reading it, keep-alive."""
    while not conn.origin.stopped.is_set():
        msg = conn.read_request()
        if msg is None:
            return
        time.sleep(0.3)
        conn.respond(200, b"ok", headers=[("X-Path", msg.target.rsplit("/", 1)[-1])])


def _answers(raw):
    """The Content-Length answers in `raw`, each as its head bytes."""
    heads = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw[:200]
        n = int(header_of(head + sep, "Content-Length"))
        heads.append(head + sep)
        raw = rest[n:]
    return heads


def _pipelined_at_a_drain(berth, o):
    """Three GETs in one write; SIGTERM 0.1 s on, while the first is at `o`: the answers' heads, ended by a FIN."""
    out = []
    for run in range(2):
        b = berth("--drain-timeout", "5s")
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(b"".join(f"GET http://{o.hostport}/{i} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
                               for i in range(3)))
            time.sleep(0.1)  # the first request is at the origin
            b.proc.send_signal(signal.SIGTERM)
            data, how = read_to_end(s, timeout=15)
            assert how == "fin", (run, how, data[-200:])
            heads = _answers(data)
            assert heads, (run, data[:200])
            assert all(h.startswith(b"HTTP/1.1 200") for h in heads), (run, heads)
            assert b.proc.wait(timeout=15) == 0, b.stderr_text()
            out.append(heads)
        finally:
            s.close()
    return out


def test_an_answer_whose_head_left_before_the_drain_is_followed_by_one_saying_close(berth, raw_origin):
    """The first answer's head went out keep-alive before the SIGTERM, so it cannot say close: the request pipelined
    behind it, already read, is answered too, with `Connection: close`, then the FIN (HAProxy at a soft stop does the
    same). Before: the first answer, no `Connection: close`, then the FIN."""
    for heads in _pipelined_at_a_drain(berth, raw_origin(_slow_body)):
        assert header_of(heads[0], "Connection") is None, heads[0]
        assert len(heads) == 2, heads
        assert (header_of(heads[-1], "Connection") or "").lower() == "close", heads[-1]


def test_an_answer_made_during_the_drain_says_close_and_ends_the_connection(berth, raw_origin):
    """The first answer's head came after the SIGTERM: it says close, and nothing is answered after it."""
    for heads in _pipelined_at_a_drain(berth, raw_origin(_slow_head)):
        assert len(heads) == 1, heads
        assert (header_of(heads[0], "Connection") or "").lower() == "close", heads[0]
