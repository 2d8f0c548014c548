"""clients: a client that writes its whole upload before it reads (Apache HttpClient, java.net) gets an early answer.

An origin may answer an upload before reading it: a 413 at once (then a close, or a lingering close that reads the
rest), or a 200 while it goes on reading. curl and urllib3 read while they send and see such an answer at once;
Apache HttpClient 4.5 and 5.2 (without Expect) write the whole body first and only then read. Straight to these
origins the blocking client gets its answer (the origin reads, or drops, the rest of the body). Through berth, which
closes the caller after an early answer, the close must not come before the caller's body is in: a close over bytes
still arriving is a reset, the client's next write fails (`Broken pipe`) and it never reads the answer waiting in
its socket. Each run writes 10 MiB, CL or chunked, with one blocking `sendall`, then reads to the end."""
import socket

import pytest

from hostile_wire import connect, read_to_end, status_of

BODY = 10 << 20
RUNS = 3


def _origin(kind):
    """An origin that answers an upload as soon as its head is in: `close` 413 and closes over the body, `drain` 413
    and reads and drops the body (nginx's lingering close), `keep` 200 and reads the body on (keep-alive)."""
    def handler(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if kind == "keep":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nearly")
            conn.read_body(msg)
            return
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
        if kind == "drain":
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.settimeout(2)
            while conn.sock.recv(1 << 16):
                pass
    return handler


def _upload(hp, chunked):
    head = f"POST http://{hp}/upload HTTP/1.1\r\nHost: {hp}\r\n"
    if not chunked:
        return (head + f"Content-Length: {BODY}\r\n\r\n").encode() + b"z" * BODY
    piece = b"%x\r\n" % (1 << 16) + b"z" * (1 << 16) + b"\r\n"
    return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + piece * (BODY >> 16) + b"0\r\n\r\n"


def _blocking_client(addr, request):
    """Writes the whole request, then reads the answer to the end: Apache HttpClient's order. The exception's name
    when the write failed (the answer is then never read, as in HttpClient)."""
    s = connect(addr, timeout=15)
    try:
        s.sendall(request)
        data, _ = read_to_end(s, timeout=15)
        return data
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["cl", "chunked"])
@pytest.mark.parametrize("kind,status", [("close", 413), ("drain", 413), ("keep", 200)])
def test_a_blocking_uploader_reads_the_early_answer(berth, raw_origin, kind, status, chunked):
    o = raw_origin(_origin(kind))
    b = berth()
    got = [_blocking_client(b.proxy, _upload(o.hostport, chunked)) for _ in range(RUNS)]
    seen = [status_of(g) if isinstance(g, bytes) and g else g for g in got]
    assert seen == [status] * RUNS, f"each of {RUNS} blocking 10 MiB uploads should read the early {status}: {seen}"
