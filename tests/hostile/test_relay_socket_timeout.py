"""The socket timeout is the longest silence in either direction (issue 23, item 4): a slow, steady upload is never cut."""
import socket
import time

from hostile_wire import connect, header_of, read_to_end, status_of


def recording_origin(got):
    """Reads one request with its Content-Length body, records it in `got`, answers 200 with the byte count."""
    def handler(conn):
        msg = conn.read_request_head()
        if msg is None:
            return
        if msg.header("Expect", "").lower() == "100-continue":
            time.sleep(0.6)
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        n = int(msg.header("Content-Length"))
        body = b""
        while len(body) < n:
            body += conn.read_exact(1)
        got.append(body)
        conn.respond(200, b"got %d" % len(body))
    return handler


def dribble(sock, data, gap):
    """Sends `data` one byte every `gap` seconds; returns how many bytes went before berth closed on it."""
    for i in range(len(data)):
        try:
            sock.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return i
        time.sleep(gap)
    return len(data)


def test_a_slow_steady_upload_is_never_cut(berth, raw_origin):
    """30 bytes, one every 100 ms (3 s in all) under --socket-timeout 1s: no silence reaches 1 s, so it goes through."""
    got = []
    o = raw_origin(recording_origin(got))
    b = berth("--socket-timeout", "1s")
    body = bytes(range(65, 95))
    c = connect(b.proxy, timeout=10)
    c.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 30\r\n\r\n".encode())
    sent = dribble(c, body, 0.1)
    raw, how = read_to_end(c, timeout=5)
    c.close()
    assert status_of(raw) == 200, (f"the upload was cut after {sent} of 30 bytes", raw[:300], how)
    assert raw.endswith(b"got 30"), raw
    assert got == [body]


def test_a_slow_upload_after_100_continue_is_never_cut(berth, raw_origin):
    """The wait for the upstream's 100 Continue is upstream silence under the timeout; the body that follows dribbles."""
    got = []
    o = raw_origin(recording_origin(got))
    b = berth("--socket-timeout", "1s")
    body = b"x" * 15
    c = connect(b.proxy, timeout=10)
    c.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 15\r\n"
              f"Expect: 100-continue\r\n\r\n".encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = c.recv(4096)
        assert chunk, interim
        interim += chunk
    assert status_of(interim) == 100, interim
    sent = dribble(c, body, 0.15)
    raw, how = read_to_end(c, timeout=5)
    c.close()
    raw = interim.split(b"\r\n\r\n", 1)[1] + raw
    assert status_of(raw) == 200, (f"the upload was cut after {sent} of 15 bytes", raw[:300], how)
    assert got == [body]


def test_an_upload_that_goes_silent_still_times_out(berth, raw_origin):
    """Half a body, then nothing: the silence reaches the socket timeout and the caller gets 504 read-timeout."""
    got = []
    o = raw_origin(recording_origin(got))
    b = berth("--socket-timeout", "1s")
    c = connect(b.proxy, timeout=10)
    c.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: 30\r\n\r\n".encode())
    assert dribble(c, b"y" * 15, 0.1) == 15, "berth cut the upload while it was still flowing"
    t0 = time.monotonic()
    raw, how = read_to_end(c, timeout=8)
    waited = time.monotonic() - t0
    c.close()
    assert status_of(raw) == 504 and header_of(raw, "Berth-Error") == "read-timeout", (raw[:300], how)
    assert how in ("fin", "reset"), "berth answered and then closed (the request body is incomplete)"
    assert waited < 5, f"the silent upload was held {waited:.1f} s under a 1 s socket timeout"
    assert got == []


def test_an_upstream_that_reads_slowly_but_steadily_is_never_cut(berth, raw_origin):
    """The other direction: berth's output to the upstream backs up (the origin reads 4 KiB every 20 ms through a
    small receive buffer), so no caller byte is read for longer than the socket timeout; the bytes the upstream
    accepts are its progress, and the upload goes through."""
    got = []
    size = 640 * 1024

    def handler(conn):
        msg = conn.read_request_head()
        n = int(msg.header("Content-Length"))
        body = bytearray(conn.buf)
        conn.buf = b""
        while len(body) < n:
            chunk = conn.sock.recv(4096)
            if not chunk:
                break
            body += chunk
            time.sleep(0.02)
        got.append(len(body))
        conn.respond(200, b"got %d" % len(body))

    o = raw_origin(handler)
    o.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    b = berth("--socket-timeout", "1s")
    c = connect(b.proxy, timeout=30)
    c.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {size}\r\n\r\n".encode())
    sent = 0
    try:
        c.sendall(b"z" * size)
        sent = size
    except (BrokenPipeError, ConnectionResetError):
        pass
    raw = b""
    while not raw.endswith(b"got %d" % size) and b"Berth-Error" not in raw:
        chunk = c.recv(65536)
        if not chunk:
            break
        raw += chunk
    c.close()
    assert status_of(raw) == 200, (f"cut with {sent} bytes sent", raw[:300])
    assert got == [size]
