"""smuggle: a response whose transfer codings go beyond chunked (`gzip, chunked`, or `gzip` read until close) reached
an HTTP/1.0 caller as a bare body: de-chunked with the whole Transfer-Encoding line dropped, so the gzip coding was
lost and the coded bytes passed for the content; or with `Transfer-Encoding: gzip`, which an HTTP/1.0 client does not
know (and RFC 9112 6.1 forbids sending it). Now 502 `invalid-response` for such a caller, as HAProxy 2.6 answers for
any caller (nginx 1.22 drops the coding, as berth did); an HTTP/1.1 caller gets the codings as they came."""
import socket
import threading
import time

import pytest

from hostile_wire import connect, header_of, read_to_end, status_of

RESPONSES = {
    "gzip-chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "gzip-lines": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "gzip-until-close": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
}


def _origin(response):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)

    def serve():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            c.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                data += c.recv(65536)
            c.sendall(response)
            time.sleep(0.2)
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    return ls


def _get(b, ls, version):
    authority = "127.0.0.1:%d" % ls.getsockname()[1]
    s = connect(b.proxy)
    try:
        s.sendall(f"GET http://{authority}/ {version}\r\nHost: {authority}\r\n\r\n".encode())
        raw, _ = read_to_end(s, timeout=5)
    finally:
        s.close()
    return raw


@pytest.mark.parametrize("name", RESPONSES)
def test_codings_beyond_chunked_are_502_for_an_http10_caller(berth, name):
    b = berth()
    ls = _origin(RESPONSES[name])
    try:
        raw = _get(b, ls, "HTTP/1.0")
        assert status_of(raw) == 502, raw
        assert header_of(raw, "Berth-Error") == "invalid-response", raw
        assert b"hello" not in raw, raw
    finally:
        ls.close()


@pytest.mark.parametrize("name", RESPONSES)
def test_an_http11_caller_gets_the_codings_as_they_came(berth, name):
    b = berth()
    ls = _origin(RESPONSES[name])
    try:
        raw = _get(b, ls, "HTTP/1.1")
        assert status_of(raw) == 200, raw
        assert b"gzip" in raw.split(b"\r\n\r\n", 1)[0], raw
    finally:
        ls.close()


def test_a_lone_chunked_is_still_dechunked_for_an_http10_caller(berth):
    b = berth()
    ls = _origin(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    try:
        raw = _get(b, ls, "HTTP/1.0")
        assert status_of(raw) == 200 and raw.endswith(b"\r\n\r\nhello"), raw
        assert header_of(raw, "Transfer-Encoding") is None, raw
    finally:
        ls.close()
