"""review16: a head split at every byte offset across two reads, after a longer head on the same kept connections,
goes out byte for byte as the whole head does (h-perf3's in-place serializers: the status line written in line with
its reason read at reasonRange, the lexer's commit on every way out, framing decided in place; h-perf2's in-place
head swap). Both ways: the upstream's response heads to the caller, the caller's request heads to the origin."""
import socket
import time

from hostile_wire import connect

LONG_RESPONSE = (b"HTTP/1.1 200 " + b"L" * 300 + b"\r\n"
                 + b"".join(b"X-Long-Field-%02d: %s\r\n" % (i, b"l" * 60) for i in range(40))
                 + b"Content-Length: 2\r\n\r\nhi")
# A reason with a tab and obs-text; a Berth-Error to rename; a field Connection names (each line classified again)
# and a repeated Content-Length (folded to one line).
SPLIT_RESPONSES = {
    b"slow": (b"HTTP/1.1 203 R\xe9\tason\r\nBerth-Error: x\r\nConnection: x-drop\r\nX-Drop: 1\r\n"
              b"X-Keep: v\x80\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi",
              b"HTTP/1.1 203 R\xe9\tason\r\nBerth-Upstream-Error: x\r\nX-Keep: v\x80\r\nContent-Length: 2\r\n"),
    # No reason at all (no SP after the status), the fields on the records' fast path.
    b"bare": (b"HTTP/1.1 200\r\nX-Keep: 1\r\nContent-Length: 2\r\n\r\nhi",
              b"HTTP/1.1 200 \r\nX-Keep: 1\r\nContent-Length: 2\r\n"),
    # An interim head and the final one in the same bytes: the parser is reset between them, mid read.
    b"interim": (b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nContent-Length: 7\r\n\r\n"
                 b"HTTP/1.1 200 Fine\r\nX-Keep: 3\r\nContent-Length: 2\r\n\r\nhi",
                 b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n"),
}


def _read_response(s, buf):
    """One whole response (any 1xx heads, the final head and its Content-Length body) from `s`, reading more into
    `buf` as needed."""
    head_end = 0
    while True:
        while b"\r\n\r\n" not in buf[head_end:]:
            chunk = s.recv(65536)
            assert chunk, f"closed early; had {bytes(buf[:300])!r}"
            buf += chunk
        start = head_end
        head_end = buf.index(b"\r\n\r\n", start) + 4
        if buf[start + 9:start + 10] != b"1":
            break
    head = bytes(buf[start:head_end])
    n = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(buf) < head_end + n:
        chunk = s.recv(65536)
        assert chunk, "closed in a body"
        buf += chunk
    whole = bytes(buf[:head_end + n])
    del buf[:head_end + n]
    return whole


def _send_split(s, data, k):
    """`data` in two segments, the first `k` bytes, then (after a pause that lets berth read them alone) the rest."""
    if k > 0:
        s.sendall(data[:k])
        time.sleep(0.003)
    s.sendall(data[k:])


def _answer(conn):
    """Answers `X-Answer: long` with LONG_RESPONSE, `X-Answer: <name> <k>` with that response split at byte k."""
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        try:
            raw = conn.read_until(b"\r\n\r\n")
        except (EOFError, OSError):
            return
        answer = raw.split(b"X-Answer: ")[1].split(b"\r\n")[0]
        if answer == b"long":
            conn.sendall(LONG_RESPONSE)
        else:
            name, k = answer.split(b" ")
            _send_split(conn.sock, SPLIT_RESPONSES[name][0], int(k))


def test_response_heads_split_at_every_offset_go_out_whole(berth, raw_origin):
    o = raw_origin(_answer)
    b = berth()
    s = connect(b.proxy, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    get = b"GET http://%s/ HTTP/1.1\r\nHost: %s\r\nX-Answer: " % (o.hostport.encode(), o.hostport.encode())
    try:
        for name, (raw, want_start) in SPLIT_RESPONSES.items():
            reference = None
            for k in range(len(raw) + 1):
                s.sendall(get + b"long\r\n\r\n")
                assert _read_response(s, buf).startswith(b"HTTP/1.1 200 " + b"L" * 300 + b"\r\n")
                s.sendall(get + name + b" %d\r\n\r\n" % k)
                got = _read_response(s, buf)
                assert got.startswith(want_start), (name, k, got)
                assert got.endswith(b"\r\n\r\nhi"), (name, k, got)
                # A 1xx carries no framing field out (the caller would read the final head as its body).
                assert b"Content-Length: 7" not in got, (name, k, got)
                reference = reference or got
                assert got == reference, (name, k, got, reference)
    finally:
        s.close()
    # One upstream connection served all: each head came after a longer one on the same parser.
    assert o.connections == 1


def _record(seen):
    """An origin that keeps each forwarded request head and answers it with an empty 200."""
    def handler(conn):
        while True:
            try:
                raw = conn.read_until(b"\r\n\r\n")
            except (EOFError, OSError):
                return
            seen.append(raw)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    return handler


def test_request_heads_split_at_every_offset_go_out_whole(berth, raw_origin):
    seen = []
    o = raw_origin(_record(seen))
    b = berth()
    hp = o.hostport.encode()
    long_ = (b"GET http://" + hp + b"/" + b"p" * 300 + b" HTTP/1.1\r\nHost: " + hp + b"\r\n"
             + b"".join(b"X-Long-Field-%02d: %s\r\n" % (i, b"q" * 60) for i in range(40)) + b"\r\n")
    # Absolute form with a Host that differs (the target's authority wins), a field Connection names, obs-text and a
    # tab in a value; an HTTP/1.0 one in origin form (Connection: keep-alive is added); a TRACE whose Max-Forwards is
    # counted down.
    heads = [
        (b"GET http://" + hp + b"/p?q HTTP/1.1\r\nHost: other.example:81\r\nConnection: x-drop\r\nX-Drop: 1\r\n"
         b"X-Keep: v\x80\t.\r\n\r\n",
         b"GET /p?q HTTP/1.1\r\nHost: " + hp + b"\r\nX-Keep: v\x80\t.\r\nVia: "),
        (b"GET /s HTTP/1.0\r\nHost: " + hp + b"\r\nConnection: keep-alive\r\nX-Keep: 1\r\n\r\n",
         b"GET /s HTTP/1.0\r\nHost: " + hp + b"\r\nX-Keep: 1\r\nConnection: keep-alive\r\nVia: "),
        (b"TRACE /t HTTP/1.1\r\nHost: " + hp + b"\r\nMax-Forwards: 10\r\nX-Keep: 2\r\n\r\n",
         b"TRACE /t HTTP/1.1\r\nHost: " + hp + b"\r\nX-Keep: 2\r\nMax-Forwards: 9\r\nVia: "),
    ]
    s = connect(b.proxy, timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray()
    try:
        for raw, want_start in heads:
            reference = None
            for k in range(len(raw) + 1):
                s.sendall(long_)
                _read_response(s, buf)
                _send_split(s, raw, k)
                _read_response(s, buf)
                got = seen[-1]
                assert seen[-2].startswith(b"GET /" + b"p" * 300 + b" HTTP/1.1\r\n"), seen[-2][:400]
                assert got.startswith(want_start), (raw, k, got)
                reference = reference or got
                assert got == reference, (raw, k, got, reference)
    finally:
        s.close()
    assert len(seen) == 2 * sum(len(raw) + 1 for raw, _ in heads)
