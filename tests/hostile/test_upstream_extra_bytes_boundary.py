"""hostile2: bytes an origin sends after a whole response never answer the next request, wherever berth's read ended.

An origin that sends a second, unsolicited response right behind its answer (one write) must not have it relayed as
the answer to the caller's next request: berth drops a connection with bytes after the response's end. It looked only
at the bytes it had read, though: when the answer ended exactly where a read ended (a fresh connection reads 4 KiB
first, so a 4,096-byte answer), the unsolicited response was still in the kernel, the connection went back to the pool
as clean, and the caller's pipelined request, sent on it in that same turn, got the unsolicited response as its answer
(main's binary: `EVIL` relayed for /2 every time). After: an answer that ended a full read is followed by one more
read before its connection may be reused, and bytes found there (or its end) keep it out of the pool."""
import socket
import threading

from hostile_wire import connect

EVIL = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"
REAL = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nREAL"


def _answer_of_total(total):
    """A 200 whose head and body together are `total` bytes."""
    for n in range(total):
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n
        if len(head) + n == total:
            return head + b"a" * n
    raise AssertionError(total)


def _origin(first):
    """Each connection: /1 gets `first` and EVIL in one write; any other request gets REAL."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(0.2)
    stop = []

    def conn(c):
        c.settimeout(5)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                head, buf = buf.split(b"\r\n\r\n", 1)
                c.sendall(first + EVIL if head.split(b" ")[1].endswith(b"/1") else REAL)
        except OSError:
            pass
        finally:
            c.close()

    def accept():
        while not stop:
            try:
                c, _ = lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=conn, args=(c,), daemon=True).start()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    return lsock, stop, t


def _two_answers(s):
    """Reads two Content-Length answers from `s`; returns their bodies."""
    s.settimeout(5)
    buf, bodies = b"", []
    while len(bodies) < 2:
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


def test_unsolicited_response_behind_a_read_sized_answer_is_never_relayed(berth):
    b = berth()
    for total in (4096, 4095, 4097):
        lsock, stop, t = _origin(_answer_of_total(total))
        hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
        try:
            for round_ in range(3):
                s = connect(b.proxy)
                try:
                    s.sendall(f"GET http://{hostport}/1 HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
                              f"GET http://{hostport}/2 HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
                    first, second = _two_answers(s)
                finally:
                    s.close()
                assert len(first) == total - len(_answer_of_total(total).split(b"\r\n\r\n")[0]) - 4
                assert second == b"REAL", (
                    f"answer of {total} bytes, round {round_}: the origin's unsolicited response answered /2: {second!r}")
        finally:
            stop.append(1)
            lsock.close()
            t.join(2)
