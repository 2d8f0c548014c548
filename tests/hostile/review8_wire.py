"""Helpers of the walk review's tests (test_review8_walk_*): read Content-Length answers off one caller socket, an
echoing origin, the access log's JSON lines, request bytes, and waiting for a connection idle in its pool."""
import json
import time

from berthkit import keepalive_loop, upstream_stats, wait_for


def read_answer(sock, buf, head_only=False):
    """One Content-Length response from `sock` after the bytes in `buf` (a bytearray, consumed): (status, headers, body)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, bytes(buf)
        buf += chunk
    raw, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    del buf[:len(raw) + 4]
    n = 0 if head_only or status in (100, 204, 304) else int(headers.get("content-length", "0"))
    while len(buf) < n:
        chunk = sock.recv(65536)
        assert chunk, bytes(buf)
        buf += chunk
    body = bytes(buf[:n])
    del buf[:n]
    return status, headers, body


def echoing(raw_origin, delay=0.0):
    """An origin that answers every request with its method, target and body, after `delay` seconds (a HEAD with the
    head alone, its Content-Length that of the GET)."""
    def respond(conn, msg):
        if delay:
            time.sleep(delay)
        body = f"{msg.method} {msg.target} ".encode() + (msg.body or b"")
        if msg.method == "HEAD":
            return conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        conn.respond(200, body)
    return raw_origin(keepalive_loop(respond))


def access_lines(b, count):
    """The first `count` access lines berth wrote (JSON), once there are that many."""
    def lines():
        return [d for d in (json.loads(x) for x in b.stderr_text().splitlines() if x.startswith("{")) if d.get("msg") == "access"]
    wait_for(lambda: len(lines()) >= count, what=f"{count} access lines")
    return lines()


def request_bytes(port, method, path, extra=b"", body=b""):
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + extra + b"\r\n" + body


def wait_upstream_idle(b, o):
    """Until the connection to origin `o` is idle in its pool."""
    wait_for(lambda: upstream_stats(b, f"127.0.0.1:{o.port}")["idle"] == 1, what="the connection idle in its pool")
