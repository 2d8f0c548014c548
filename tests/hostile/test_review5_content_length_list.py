"""review5: a request whose Content-Length is a list of one value (`5, 5`, `5,5`) or repeats the field with the
same value is accepted (RFC 9112 6.3 allows it); it was forwarded as it came, and now goes out as the one value. RFC 9110 8.6: a sender MUST NOT forward such a value; it may reject it or
replace it with the one decimal value. Not a smuggling (the values agree), but origins disagree on it: llhttp (Node)
answers 400 to a repeated Content-Length, Go's net/http to `5,5`. HAProxy forwards `Content-Length: 5`."""
import socket
import threading

import pytest

from hostile_wire import connect, read_to_end


def _forwarded_head(b, origin_port, fields):
    got = []
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]

    def serve():
        c, _ = lsock.accept()
        c.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            data += c.recv(65536)
        got.append(data.split(b"\r\n\r\n", 1)[0])
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    s = connect(b.proxy)
    try:
        s.sendall(f"POST http://{hostport}/ HTTP/1.1\r\nHost: {hostport}\r\n{fields}Connection: close\r\n\r\nhello".encode())
        read_to_end(s, timeout=10)
    finally:
        s.close()
        t.join(5)
        lsock.close()
    return got[0]


@pytest.mark.parametrize("fields", ["Content-Length: 5, 5\r\n", "Content-Length: 5,5\r\n",
                                    "Content-Length: 5\r\nContent-Length: 5\r\n"])
def test_identical_content_lengths_reach_the_origin_as_one(berth, fields):
    b = berth()
    head = _forwarded_head(b, 0, fields)
    lines = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    assert lines == [b"Content-Length: 5"], head
