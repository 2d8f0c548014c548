"""hostile1 item 6: a caller that sends its request, half-closes (`printf 'GET ...' | nc -q`), then reads a large
answer slowly. berth reads the caller's FIN while the answer still waits in its output for the slow reader; that
FIN must not end the session before everything owed has been written (no silent truncation)."""
import hashlib
import socket
import time

import pytest

from hostile_wire import connect, status_of

SIZE = 6 << 20


def _body():
    return hashlib.sha256(b"seed").digest() * (SIZE // 32)


def _slow_read(s, total_timeout=60.0):
    """Reads until the peer closes, 16 KiB at a time with a pause after each of the first reads, so berth's output
    waits on us."""
    data = bytearray()
    deadline = time.monotonic() + total_timeout
    how = "timeout"
    while time.monotonic() < deadline:
        s.settimeout(5)
        try:
            chunk = s.recv(16384)
        except ConnectionResetError:
            how = "reset"
            break
        except socket.timeout:
            break
        if not chunk:
            how = "fin"
            break
        data += chunk
        if len(data) < 2 << 20:
            time.sleep(0.02)  # slow for the first 2 MiB (~2.5 s): berth's output is full while it reads the FIN
    return bytes(data), how


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close"])
def test_a_half_closed_slow_reader_gets_the_whole_relayed_answer(berth, raw_origin, framing):
    body = _body()

    def handler(conn):
        conn.read_request()
        if framing == "content-length":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        elif framing == "chunked":
            out = bytearray(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(body), 65536):
                piece = body[i:i + 65536]
                out += b"%x\r\n" % len(piece) + piece + b"\r\n"
            conn.sendall(bytes(out) + b"0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + body)
            conn.sock.close()

    o = raw_origin(handler)
    b = berth()
    s = connect(b.proxy)
    try:
        s.sendall(f"GET http://{o.hostport}/big HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        s.shutdown(socket.SHUT_WR)
        data, how = _slow_read(s)
    finally:
        s.close()
    assert status_of(data) == 200, data[:200]
    head, _, rest = data.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        decoded = bytearray()
        while True:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line, 16)
            if n == 0:
                break
            decoded += rest[:n]
            rest = rest[n + 2:]
        rest = bytes(decoded)
    assert len(rest) == len(body), (framing, how, len(rest))
    assert rest == body
    assert how == "fin", how


def test_two_pipelined_requests_then_fin_and_a_slow_reader_get_both_answers(berth, raw_origin):
    """The FIN arrives while the first answer is still in berth's output and the second request waits: both answers,
    whole and in order, then berth's FIN."""
    body = _body()[: 3 << 20]

    def handler(conn):
        for _ in range(2):
            conn.read_request()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    o = raw_origin(handler)
    b = berth()
    s = connect(b.proxy)
    try:
        one = f"GET http://{o.hostport}/big HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
        s.sendall(one + one)
        s.shutdown(socket.SHUT_WR)
        data, how = _slow_read(s)
    finally:
        s.close()
    answers = []
    rest = data
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        assert status_of(head) == 200, head[:200]
        answers.append(rest[: len(body)])
        rest = rest[len(body):]
    assert [len(a) for a in answers] == [len(body), len(body)], how
    assert answers == [body, body]
    assert how == "fin", how
