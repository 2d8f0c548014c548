"""review6: an upstream's FIN read after bytes a yielded relay had not finished (interim heads past one turn's steps,
then the final answer, then a close). Since h-hostile (3a781ce) those bytes are relayed first, and the answer completes
in that same turn; but the connection went back to the pool as reusable although its FIN had been read, and the caller's
pipelined POST, started in that turn, took it and got a 502 upstream-reset (the origin never saw it; a POST is not
retried). After: a connection whose end was read is never reused (`Channel.readEnded`), and the POST goes out on a
fresh one."""
import socket
import threading

from hostile_wire import connect


def _read_answer(s, buf):
    """Skips interim heads; returns (final head, body, rest) for a Content-Length answer."""
    while True:
        while b"\r\n\r\n" not in buf:
            c = s.recv(65536)
            assert c, buf[-300:]
            buf += c
        head, buf = buf.split(b"\r\n\r\n", 1)
        if head.startswith(b"HTTP/1.1 1"):
            continue
        n = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        while len(buf) < n:
            c = s.recv(65536)
            assert c, (head, buf)
            buf += c
        return head, buf[:n], buf[n:]


def test_pipelined_post_after_a_flooded_answer_and_fin(berth):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    lsock.settimeout(10)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    served = []

    def origin():
        for k in range(4):
            try:
                c, _ = lsock.accept()
            except OSError:
                return
            c.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    got = c.recv(65536)
                    if not got:
                        break
                    data += got
                if data.startswith(b"GET"):
                    served.append(("GET", k))
                    c.sendall(b"HTTP/1.1 103 Early Hints\r\n\r\n" * 300 + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    c.shutdown(socket.SHUT_WR)
                elif data.startswith(b"POST"):
                    while not data.endswith(b"body"):
                        data += c.recv(65536)
                    served.append(("POST", k))
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\np")
            except OSError:
                pass
            finally:
                c.close()

    t = threading.Thread(target=origin, daemon=True)
    t.start()
    b = berth("--socket-timeout", "5s")
    try:
        s = connect(b.proxy, timeout=10)
        s.sendall(f"GET http://{hostport}/g HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
                  f"POST http://{hostport}/p HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: 4\r\n\r\nbody".encode())
        h1, b1, rest = _read_answer(s, b"")
        h2, b2, rest = _read_answer(s, rest)
        s.close()
    finally:
        lsock.close()
    assert h1.startswith(b"HTTP/1.1 200") and b1 == b"ok", h1
    assert h2.startswith(b"HTTP/1.1 200") and b2 == b"p", (h2, served)
