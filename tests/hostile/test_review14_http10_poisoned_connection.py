"""review14: the connection on which a chunked request met an HTTP/1.0 answer is never reused (reliability item 112).

Item 77 lets a fresh upstream's first chunked requests go out chunked (nothing is known of its server yet). An
HTTP/1.0 server takes such a request as bodiless, answers it, and reads the chunks as its next request(s), whose
answers come back on that connection after the first. berth learnt the server's version from the answer, but kept
the connection: pooled, or handed straight to a request queued for it or pipelined behind, so that the next request
on it, another caller's, got the answer to the first caller's chunks (a request smuggled in a body, answered to
someone else).
"""
import time

from hostile_wire import connect, read_response, read_to_end, status_of

SMUGGLED = "GET /SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n"


def _http10_server(seen):
    """An HTTP/1.0 keep-alive server: a body only by Content-Length, every head answered with what it read first."""

    def handler(conn):
        while True:
            try:
                raw = conn.read_until(b"\r\n\r\n").lstrip(b"\r\n")
            except (EOFError, OSError):
                return
            first = raw.split(b"\r\n", 1)[0].decode("latin-1")
            seen.append(first)
            for line in raw.split(b"\r\n")[1:]:
                if line.lower().startswith(b"content-length:"):
                    conn.read_exact(int(line.split(b":", 1)[1]))
            if first.startswith("POST"):
                time.sleep(0.5)  # the next caller queues for the one connection meanwhile
            elif not first.endswith(("HTTP/1.0", "HTTP/1.1")):
                time.sleep(0.3)  # a chunk line taken for a request: its answer comes after the next caller's request
            body = ("answer to " + first).encode()
            conn.sendall(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    return handler


def test_a_caller_queued_behind_a_chunked_post_to_an_http10_server_gets_its_own_answer(berth, raw_origin):
    seen = []
    o = raw_origin(_http10_server(seen))
    b = berth("--max-per-route", "1", "--socket-timeout", "5s", "--acquire-timeout", "5s")
    chunks = f"{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n"
    a = connect(b.proxy, timeout=10)
    a.sendall((f"POST http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n"
               f"Connection: close\r\n\r\n{chunks}").encode())
    time.sleep(0.2)
    other = connect(b.proxy, timeout=10)
    other.sendall(f"GET http://{o.hostport}/b HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
    try:
        first, _ = read_to_end(a, timeout=5)
        raw, _ = read_to_end(other, timeout=5)
    finally:
        a.close()
        other.close()
    assert status_of(raw) == 200, raw[:300]
    assert raw.endswith(b"answer to GET /b HTTP/1.1"), (raw[-200:], seen)


def test_a_pooled_connection_that_met_the_chunks_is_not_taken_by_the_next_caller(berth, raw_origin):
    seen = []
    o = raw_origin(_http10_server(seen))
    b = berth("--socket-timeout", "5s")
    chunks = f"{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n"
    a = connect(b.proxy, timeout=10)
    try:
        a.sendall((f"POST http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n\r\n"
                   f"{chunks}").encode())
        head, _ = read_response(a)
        assert status_of(head) == 200, head
        # The next request on the pooled connection must not take the answer the server gave the chunks: the same
        # caller's here, whose worker is surely the pool's (another caller's may land on another worker's pool).
        a.sendall(f"GET http://{o.hostport}/b HTTP/1.1\r\nHost: {o.hostport}\r\nConnection: close\r\n\r\n".encode())
        raw, _ = read_to_end(a, timeout=5)
    finally:
        a.close()
    assert raw.endswith(b"answer to GET /b HTTP/1.1"), (raw[-200:], seen)


def test_a_request_pipelined_behind_the_chunked_post_gets_its_own_answer(berth, raw_origin):
    seen = []
    o = raw_origin(_http10_server(seen))
    b = berth("--socket-timeout", "5s")
    chunks = f"{len(SMUGGLED):x}\r\n{SMUGGLED}\r\n0\r\n\r\n"
    a = connect(b.proxy, timeout=10)
    try:
        # The GET is taken in the very turn the POST's answer ends; the last POST meets the learnt HTTP/1.0 (411).
        a.sendall((f"POST http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n\r\n"
                   f"{chunks}GET http://{o.hostport}/b HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n"
                   f"POST http://{o.hostport}/c HTTP/1.1\r\nHost: {o.hostport}\r\nTransfer-Encoding: chunked\r\n"
                   f"Connection: close\r\n\r\n{chunks}").encode())
        raw, _ = read_to_end(a, timeout=8)
    finally:
        a.close()
    assert b"answer to GET /b HTTP/1.1" in raw and b"answer to 23" not in raw, (raw[-400:], seen)
    assert raw.count(b"HTTP/1.1 ") == 3 and b"HTTP/1.1 411 " in raw, raw[-400:]
