"""hostile2: framing fields on a response that has no body by its status (1xx, 204) are never forwarded.

A 1xx or 204 response ends with its head (RFC 9110 15.2, 15.3.5), and a server must not send Content-Length or
Transfer-Encoding in one (RFC 9110 8.6, RFC 9112 6.1). berth frames such a response by its status and relays no body,
but it forwarded the upstream's framing lines as they came: a parser downstream that honours them (nginx 1.22 reads
a 103's `Content-Length: 4` as a body, and so takes the first 4 bytes of the next response) sees a different message
boundary than berth did. After: those lines are left out of a 1xx or 204, as HAProxy does. A 304 and an answer to
HEAD keep theirs: there they describe the representation (RFC 9110 8.6, RFC 9112 6.1 allow them)."""
import socket
import threading

from hostile_wire import connect


def _origin(answers):
    """A keep-alive origin: answers its n-th request head with answers[n] (on one connection)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    lsock.settimeout(10)

    def serve():
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        c.settimeout(10)
        buf = b""
        try:
            for answer in answers:
                while b"\r\n\r\n" not in buf:
                    got = c.recv(65536)
                    if not got:
                        return
                    buf += got
                buf = buf.split(b"\r\n\r\n", 1)[1]
                c.sendall(answer)
            c.recv(1)
        except OSError:
            pass
        finally:
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return lsock, t


def _read_until(s, marker_count, timeout=5):
    """Reads until `marker_count` responses ending in `ok` arrived."""
    s.settimeout(timeout)
    got = b""
    while got.count(b"\r\n\r\nok") < marker_count:
        chunk = s.recv(65536)
        assert chunk, got
        got += chunk
    return got


def _heads(raw):
    """The head of every response in `raw` (each response here is a head, with `ok` after the final ones)."""
    return [h for h in raw.replace(b"\r\n\r\nok", b"\r\n\r\n").split(b"\r\n\r\n") if h]


def _field_names(head):
    return [line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")[1:]]


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def test_framing_fields_of_1xx_and_204_are_not_forwarded(berth):
    b = berth()
    answers = [
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\nContent-Length: 4\r\n\r\n" + OK,
        b"HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n" + OK,
        b"HTTP/1.1 204 No Content\r\nContent-Length: 4\r\nX-Kept: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
        OK,
    ]
    lsock, t = _origin(answers)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    s = connect(b.proxy)
    try:
        s.sendall(b"".join(f"GET http://{hostport}/{i} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode() for i in range(5)))
        raw = _read_until(s, 3)
    finally:
        s.close()
        lsock.close()
        t.join(2)
    heads = _heads(raw)
    statuses = [h.split(b" ", 2)[1] for h in heads]
    assert statuses == [b"103", b"200", b"100", b"200", b"204", b"204", b"200"], (statuses, raw)
    for head in heads:
        if head.split(b" ", 2)[1] in (b"103", b"100", b"204"):
            names = _field_names(head)
            assert b"content-length" not in names and b"transfer-encoding" not in names, (
                f"a bodiless response went out with the upstream's framing: {head!r}")
    assert b"x-kept" in _field_names(heads[4]), heads[4]
    assert b"link" in _field_names(heads[0]), heads[0]


def test_304_and_head_answers_keep_their_representation_fields(berth):
    b = berth()
    answers = [
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        OK,
    ]
    lsock, t = _origin(answers)
    hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
    s = connect(b.proxy)
    try:
        s.sendall(f"GET http://{hostport}/a HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
                  f"HEAD http://{hostport}/b HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
                  f"GET http://{hostport}/c HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        raw = _read_until(s, 1)
    finally:
        s.close()
        lsock.close()
        t.join(2)
    heads = _heads(raw)
    assert [h.split(b" ", 2)[1] for h in heads] == [b"304", b"200", b"200"], raw
    assert b"content-length" in _field_names(heads[0]), heads[0]
    assert b"transfer-encoding" in _field_names(heads[1]), heads[1]
