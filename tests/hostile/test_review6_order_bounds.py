"""review6 (adversarial review of the hot-path rewrite, 4db7d1f..d430a0f): the channel's output is a block of its own
(`front`) before an evbuffer, and its input one block that is handed to the other side's output. These check the bytes
keep their order on every path that mixes the two (a body larger than any block sent in odd pieces while the other side
is not reading, so sends are partial and writes land while the evbuffer holds bytes; a pipelined request behind it; a
close-delimited body re-chunked, whose size lines go to `front` and whose runs go by reference), that a head of the
largest size followed by a small one on the same connection forwards exactly the lines it should, and that hostile
response heads (Berth-Error lines renamed to a longer name, a Content-Length list folded, HTTP/1.0 callers) stay within
the serializer's bound (a trap there is a remote crash). None failed on d430a0f; they guard what the suite did not."""
import hashlib
import random
import socket
import time

from berthkit import keepalive_loop
from hostile_wire import connect, read_to_end


def pattern(n, seed):
    r = random.Random(seed)
    blk = r.randbytes(65536)
    return b"".join(bytes([i & 255, (i >> 8) & 255]) + blk[:1000] for i in range(n // 1002 + 1))[:n]


def pieces(data, seed):
    r = random.Random(seed)
    i = 0
    while i < len(data):
        k = r.choice([1, 7, 100, 4095, 4096, 4097, 8191, 30000, 70000])
        yield data[i:i + k]
        i += k


def read_response(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        c = s.recv(65536)
        assert c, buf
        buf += c
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    assert n is not None, head
    while len(rest) < n:
        c = s.recv(65536)
        assert c, (len(rest), n)
        rest += c
    return head, rest[:n], rest[n:]


def test_request_body_order_slow_origin(berth, raw_origin):
    body = pattern(3 << 20, 1)
    got = []

    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            n = int(msg.header("Content-Length") or 0)
            if n:
                time.sleep(0.4)
            data = conn.read_exact(n) if n else b""
            got.append((msg.target, hashlib.sha256(data).hexdigest(), len(data)))
            conn.respond(200, b"ok")

    o = raw_origin(handler)
    b = berth("--socket-timeout", "5s")
    for seed in range(3):
        s = connect(b.proxy, timeout=10)
        s.sendall(f"POST http://{o.hostport}/a HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for p in pieces(body, seed):
            s.sendall(p)
        s.sendall(f"GET http://{o.hostport}/b HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        h1, b1, rest = read_response(s)
        h2, b2, rest = read_response(s, rest)
        s.close()
        assert b1 == b"ok" and b2 == b"ok"
    want = hashlib.sha256(body).hexdigest()
    assert [g for g in got if g[0].endswith("/a")] == [(f"/a", want, len(body))] * 3, got


def test_response_body_order_slow_caller(berth, raw_origin):
    body = pattern(3 << 20, 2)

    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            if msg.target.endswith("/big"):
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
                for p in pieces(body, 5):
                    conn.sendall(p)
            elif msg.target.endswith("/close"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                for p in pieces(body, 6):
                    conn.sendall(p)
                conn.sock.close()
                return
            else:
                conn.respond(200, b"small")

    o = raw_origin(handler)
    b = berth("--socket-timeout", "5s")
    for rnd in range(2):
        s = connect(b.proxy, timeout=10)
        s.sendall(f"GET http://{o.hostport}/big HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n"
                  f"GET http://{o.hostport}/s HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        time.sleep(0.5)
        h1, b1, rest = read_response(s)
        h2, b2, rest = read_response(s, rest)
        assert hashlib.sha256(b1).hexdigest() == hashlib.sha256(body).hexdigest()
        assert b2 == b"small"
        # close-delimited, re-chunked for a 1.1 caller
        s.sendall(f"GET http://{o.hostport}/close HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        time.sleep(0.3)
        data = b""
        while not data.endswith(b"\r\n0\r\n\r\n"):
            c = s.recv(65536)
            assert c, (len(data), data[:200])
            data += c
        s.close()
        head, _, chunked = data.partition(b"\r\n\r\n")
        assert b"Transfer-Encoding: chunked" in head, head
        out = b""
        while True:
            line, _, chunked = chunked.partition(b"\r\n")
            n = int(line, 16)
            if n == 0:
                break
            out += chunked[:n]
            assert chunked[n:n + 2] == b"\r\n"
            chunked = chunked[n + 2:]
        assert out == body, (len(out), len(body), head)


def test_big_head_then_small(berth, raw_origin):
    seen = []

    def handler(conn):
        while True:
            raw = None
            try:
                raw = conn.read_until(b"\r\n\r\n")
            except EOFError:
                return
            seen.append(raw)
            conn.respond(200, b"k", headers=[("Berth-Error", "x")] * 40 + [("X-" + "a" * 300, "v" * 400)] * 20)

    o = raw_origin(handler)
    b = berth()
    s = connect(b.proxy, timeout=10)
    big = "".join(f"X-H{i}: {'v' * 600}\r\n" for i in range(90))
    big += "Connection: x-h1, x-h7, keep-alive\r\nContent-Length: 0\r\nVia: 1.1 a\r\nTE: x\r\nKeep-Alive: 5\r\n"
    for i in range(3):
        s.sendall(f"GET http://{o.hostport}/big HTTP/1.1\r\nHost: {o.hostport}\r\n{big}\r\n".encode())
        h, bd, rest = read_response(s)
        assert bd == b"k", h[:200]
        s.sendall(f"GET http://{o.hostport}/small HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        h, bd, rest = read_response(s, rest)
        assert bd == b"k"
    s.close()
    assert len(seen) == 6
    for raw in seen[1::2]:
        assert raw.count(b"\r\n") < 8, raw
    for raw in seen[0::2]:
        assert b"X-H1:" not in raw and b"X-H7:" not in raw and b"X-H2:" in raw and b"X-H89:" in raw


def test_bound_hostile_response_heads(berth, raw_origin):
    heads = [
        b"HTTP/1.0 200 \r\n" + b"Berth-Error:\r\n" * 98 + b"Content-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 \r\n" + b"berth-error:\r\n" * 60 + b"Content-Length:1,1\r\nContent-Length:1\r\n" + b"X:\r\n" * 30 + b"\r\nx",
        b"HTTP/1.1 999 \r\n" + b"Berth-Error:" + b"a" * 60000 + b"\r\n" + b"Berth-Error:\r\n" * 90 + b"Content-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 \r\nConnection: x, y, Berth-Upstream-Error\r\n" + b"Berth-Error:\r\n" * 90 + b"Content-Length: 1\r\n\r\nx",
    ]
    state = {"i": 0}

    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            conn.sendall(heads[state["i"] % len(heads)])

    o = raw_origin(handler)
    b = berth()
    for i, h in enumerate(heads):
        state["i"] = i
        for version in ("1.1", "1.0"):
            s = connect(b.proxy, timeout=5)
            s.sendall(f"GET http://{o.hostport}/ HTTP/{version}\r\nHost: {o.hostport}\r\nConnection: keep-alive\r\n\r\n".encode())
            head, body, _ = read_response(s)
            s.close()
            assert head.startswith(b"HTTP/1.1 ") and body == b"x", (i, version, head[:200])
            lines = head.split(b"\r\n")[1:]
            renamed = [l for l in lines if l.lower().startswith(b"berth-upstream-error:")]
            assert not [l for l in lines if l.lower().startswith(b"berth-error:")], (i, version)
            assert len(renamed) == (0 if i == 3 else h.lower().count(b"\r\nberth-error:")), (i, version, len(renamed))
            assert [l for l in lines if l.lower().startswith(b"content-length")] == [b"Content-Length: 1"], (i, lines[-6:])
    assert b.proc.poll() is None
