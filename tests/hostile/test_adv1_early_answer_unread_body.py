"""adv1: a connection whose server answered an upload early and is still reading its body is not reused.

An origin may answer a POST at once (200, keep-alive) and read its body afterwards. berth hands the whole body to its
kernel, the exchange ends, and the connection went back to the pool while the body's tail still waited in berth's
kernel for the server's window. The next request on it (the caller's pipelined one) was unacknowledged for the
dead-peer timeout only because the server was still reading the body ahead of it: berth took the live server for dead,
reset the connection, cut the upload the caller had been answered 200 for (the origin read ~128 KiB of 256 KiB, then a
reset) and sent the next request again on a fresh connection. After: a connection whose peer has not acknowledged
every request byte when the exchange ends is closed with a FIN behind those bytes, never pooled."""
import threading
import time

from hostile_wire import connect, thread_per_connection

BODY = 256 << 10  # past the origin's first receive window (128 KiB): the tail waits in berth's kernel


def _origin(events):
    """Each connection: answers a request 0.3 s after its head without reading its body, reads the body 0.5 s later;
    notes what it read of each."""
    def conn(c):
        c.settimeout(10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                head, buf = buf.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1]
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = b"answer to " + path
                if length > len(buf):
                    time.sleep(0.3)  # berth has handed the whole body to its kernel by now: the request is done
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                if length > len(buf):
                    time.sleep(0.5)
                read = len(buf)
                while read < length:
                    got = c.recv(min(65536, length - read))
                    if not got:
                        break
                    read += len(got)
                    buf = b""
                events.append((path, min(read, length), length))
                buf = buf[length:] if read >= length and len(buf) >= length else b""
        except OSError as e:
            events.append((b"error", repr(e), 0))
        finally:
            c.close()

    return thread_per_connection(conn)


def _answers(s, count):
    """Reads `count` Content-Length answers from `s`; returns their bodies."""
    s.settimeout(10)
    buf, bodies = b"", []
    while len(bodies) < count:
        while b"\r\n\r\n" not in buf:
            got = s.recv(65536)
            assert got, (bodies, buf[-200:])
            buf += got
        head, buf = buf.split(b"\r\n\r\n", 1)
        n = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
                 if line.lower().startswith(b"content-length:")][0])
        while len(buf) < n:
            got = s.recv(65536)
            assert got, (bodies, head)
            buf += got
        bodies.append(buf[:n])
        buf = buf[n:]
    return bodies


def test_an_upload_answered_early_reaches_the_origin_whole_and_the_next_request_once(berth):
    b = berth()
    events = []
    lsock, stop, t = _origin(events)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    try:
        s = connect(b.proxy, timeout=10)
        try:
            upload = (f"POST http://{hostport}/A HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {BODY}\r\n\r\n"
                      .encode() + b"a" * BODY)
            sender = threading.Thread(target=lambda: s.sendall(
                upload + f"POST http://{hostport}/B HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 3\r\n\r\nbbb"
                .encode()), daemon=True)
            sender.start()
            assert _answers(s, 2) == [b"answer to /A", b"answer to /B"]
            sender.join(10)
        finally:
            s.close()
        deadline = time.monotonic() + 5
        while len(events) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert sorted(events) == [(b"/A", BODY, BODY), (b"/B", 3, 3)], events
    finally:
        stop.append(1)
        lsock.close()
        t.join(2)
