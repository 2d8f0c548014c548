"""rev18: an upload answered early reaches its origin whole when its tail is still in berth's own output buffer.

Item 136 closes, rather than pools, a connection whose server had not acknowledged every request byte when its
answer ended ("closed with a FIN behind the bytes"). The bytes it counts include berth's own output buffer (the
body's tail that the kernel had no room for yet), and a close drops that buffer: an origin that answered a large
POST 200 (keep-alive) before reading it, then read it, got the body cut short by the FIN, though berth had read all of
it from the caller and answered the caller keep-alive. Before 136 the connection was pooled and its idle write event
sent the tail. After: the exchange ends only once the tail has left berth (or the socket timeout gives up on it).

The sizes: the origin's receive buffer is small, so what berth's kernel holds is its own send buffer (autotuned,
about 2.8 MB on loopback here); a body past that but within it and berth's high water (256 KiB) is read whole from
the caller with its tail still in berth. An upload berth could not read whole is answered `Connection: close` (an
early answer to an unfinished request: cut, as always), so only keep-alive answers are held to the whole body."""
import threading
import time

from hostile_wire import connect, thread_per_connection

SIZES = (2_600_000, 2_900_000, 3_000_000)


def _origin(events):
    """Each connection: reads a head, answers 200 keep-alive 0.3 s later without reading the body, reads the body
    from 0.5 s after that until it is whole or the connection ends; notes (length, bytes read)."""
    def conn(c):
        c.settimeout(10)
        buf = b""
        try:
            while b"\r\n\r\n" not in buf:
                got = c.recv(4096)
                if not got:
                    return
                buf += got
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = int([line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
                          if line.lower().startswith(b"content-length:")][0])
            time.sleep(0.3)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            time.sleep(0.5)
            read = len(buf)
            while read < length:
                got = c.recv(1 << 16)
                if not got:
                    break
                read += len(got)
            events.append((length, read))
        except OSError as e:
            events.append((b"error", repr(e)))
        finally:
            c.close()

    # Inherited from the listener: berth's kernel holds what the origin's small window leaves.
    return thread_per_connection(conn, rcvbuf=4096)


def _upload(proxy, hostport, size, heads):
    """One caller: a POST of `size` bytes; its answer's head goes to `heads`."""
    s = connect(proxy, timeout=15)
    try:
        sender = threading.Thread(target=lambda: s.sendall(
            f"POST http://{hostport}/u HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {size}\r\n\r\n".encode()
            + b"u" * size), daemon=True)
        sender.start()
        buf = b""
        while b"\r\n\r\n" not in buf:
            got = s.recv(4096)
            assert got, buf
            buf += got
        heads[size] = buf.split(b"\r\n\r\n", 1)[0].lower()
        sender.join(15)
        time.sleep(1.5)  # the caller stays: its going away would end the exchange whatever berth does
    finally:
        s.close()


def test_an_upload_answered_early_keeps_the_tail_berth_still_holds(berth):
    b = berth()
    events, heads = [], {}
    lsock, stop, t = _origin(events)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    try:
        callers = [threading.Thread(target=_upload, args=(b.proxy, hostport, n, heads), daemon=True) for n in SIZES]
        for c in callers:
            c.start()
        for c in callers:
            c.join(30)
        deadline = time.monotonic() + 10
        while len(events) < len(SIZES) and time.monotonic() < deadline:
            time.sleep(0.05)
        read = dict(events)
        kept = [n for n in SIZES if b"connection: close" not in heads.get(n, b"connection: close")]
        assert kept, heads  # at least the smallest is read whole from the caller
        assert {n: read.get(n) for n in kept} == {n: n for n in kept}, (events, heads)
    finally:
        stop.append(1)
        lsock.close()
        t.join(2)
