"""Review of the tunnel idle timeout: a caller that reads slowly but steadily is not idle, and its download is not cut."""
import socket
import time

SIZE = 16 << 20


def _sender(conn):
    """Sends SIZE bytes as fast as the tunnel takes them, then waits for the caller's FIN."""
    conn.sendall(b"z" * SIZE)
    while conn.read_some():
        pass


def test_a_slow_steady_reader_gets_the_whole_stream(berth, raw_origin):
    """The caller reads 8 KiB every 50 ms for 3 s (about 160 KiB/s, far from silent), then as fast as it can. berth
    holds up to its high-water mark for the caller, which takes longer than the 500 ms idle timeout to drain at that
    pace: progress on berth's output is traffic too. Before, the tunnel ended at the idle timeout and the caller got a
    clean FIN after a fraction of the stream."""
    o = raw_origin(_sender)
    b = berth("--connect-port", str(o.port), "--caller-idle-timeout", "500ms")
    s = socket.socket()
    # A small receive window, so what the caller has not read stays in berth rather than in the caller's kernel.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    try:
        s.connect(b.proxy)
        s.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(1)
            assert chunk, head
            head += chunk
        assert head.startswith(b"HTTP/1.1 200"), head
        got, how, start = 0, "complete", time.monotonic()
        while got < SIZE:
            try:
                data = s.recv(65536 if time.monotonic() - start > 3 else 8192)
            except ConnectionResetError:
                how = "reset"
                break
            if not data:
                how = "fin"
                break
            got += len(data)
            if time.monotonic() - start <= 3:
                time.sleep(0.05)
    finally:
        s.close()
    assert (got, how) == (SIZE, "complete"), f"the tunnel ended after {got} of {SIZE} bytes ({how})"
