"""A chunked response cut inside its last chunk or trailer section must show as a cut (issue: hidden truncation).

The origin sends `0 CRLF` (the last chunk), maybe trailer lines, then a FIN or a reset without the final CRLF; or it
stops inside a chunk-size line. Relayed as it came, an HTTP/1.1 caller saw `0 CRLF` and a clean FIN, which a lenient
client (Python's http.client among them) takes for a whole message. The last-chunk line is now held until the whole
trailer section is in, so the cut shows as a missing last chunk; an HTTP/1.0 caller (de-chunked) is reset; both are
counted `response-truncated`."""
import socket
import struct
import time

import pytest

from berthkit import stats
from berthkit.trailer_wire import read_until_suffix
from hostile_wire import connect, read_to_end, status_of

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
BODY = b"5\r\nhello\r\n"

CUTS = {
    "last-chunk-only": b"0\r\n",
    "one-trailer-line": b"0\r\nX-Check: 1\r\n",
    "inside-trailer-line": b"0\r\nX-Che",
    "last-chunk-ext": b"0;name=v\r\n",
    "inside-size-line": b"0",
    "inside-size-ext": b"0;na",
    "inside-nonzero-size-line": b"00",
}


def rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def cut_after(tail, how):
    def handler(conn):
        conn.read_request()
        conn.sendall(HEAD + BODY + tail)
        time.sleep(0.2)
        rst(conn.sock) if how == "rst" else conn.sock.close()
    return handler


def chunk_lines(body):
    """The chunked body's size values in order, as a lenient parser reads them: Python's http.client takes a last line
    with no CRLF before the close (`0` then a FIN) for a whole size line."""
    sizes = []
    while True:
        line, sep, rest = body.partition(b"\r\n")
        if not sep:
            try:
                sizes.append(int(line.split(b";")[0], 16))
            except ValueError:
                pass
            return sizes, body
        size = int(line.split(b";")[0], 16)
        sizes.append(size)
        if size == 0:
            return sizes, rest
        body = rest[size + 2:]


def fetch(b, o, version):
    c = connect(b.proxy)
    extra = "" if version == "1.1" else "Connection: close\r\n"
    c.sendall(f"GET http://{o.hostport}/t HTTP/{version}\r\nHost: {o.hostport}\r\n{extra}\r\n".encode())
    raw, how = read_to_end(c, timeout=5)
    c.close()
    return raw, how


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("cut", list(CUTS))
def test_a_cut_in_the_last_chunk_or_trailer_shows_to_an_http11_caller(berth, raw_origin, cut, how):
    b = berth()
    o = raw_origin(cut_after(CUTS[cut], how))
    raw, ended = fetch(b, o, "1.1")
    assert status_of(raw) == 200, raw[:200]
    body = raw.partition(b"\r\n\r\n")[2]
    sizes, _ = chunk_lines(body)
    assert 0 not in sizes, (f"the caller got the last chunk of a response cut inside it ({body!r}, then {ended}): "
                            "a lenient client takes it for a whole message")
    assert body.startswith(BODY), body
    assert stats(b)["totals"]["errors"].get("response-truncated") == 1, stats(b)["totals"]["errors"]


@pytest.mark.parametrize("cut", ["last-chunk-only", "one-trailer-line", "inside-size-line"])
def test_a_cut_in_the_last_chunk_or_trailer_resets_an_http10_caller(berth, raw_origin, cut):
    b = berth()
    o = raw_origin(cut_after(CUTS[cut], "fin"))
    raw, ended = fetch(b, o, "1.0")
    assert status_of(raw) == 200, raw[:200]
    assert raw.partition(b"\r\n\r\n")[2] == b"hello", raw
    assert ended == "reset", f"a de-chunked body cut in its trailer ended with a clean {ended}"
    assert stats(b)["totals"]["errors"].get("response-truncated") == 1, stats(b)["totals"]["errors"]


@pytest.mark.parametrize("pieces", [
    [b"0\r\n\r\n"],
    [b"0", b"\r\n", b"\r\n"],
    [b"000\r\nX-A: 1\r\n", b"\r\n"],
    [b"0", b"05\r\nworld\r\n0\r\n\r\n"],
    [b"01\r\nx\r\n" * 20000 + b"0\r\n\r\n"],
], ids=["whole", "dripped", "trailer-dripped", "leading-zero-size", "20000-leading-zero-chunks"])
def test_a_whole_last_chunk_still_arrives_and_the_connection_is_kept(berth, raw_origin, pieces):
    """The held last chunk goes out once its section is whole; a size with leading zeros is an ordinary chunk."""
    def handler(conn):
        while conn.read_request() is not None:
            conn.sendall(HEAD + BODY)
            for p in pieces:
                time.sleep(0.05)
                conn.sendall(p)

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    for _ in range(2):
        c.sendall(f"GET http://{o.hostport}/t HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        expect = HEAD.split(b"\r\n\r\n")[0]
        want = BODY + b"".join(pieces)
        raw = read_until_suffix(c, want)
        assert raw.partition(b"\r\n\r\n")[2] == want, raw
        assert raw.startswith(expect[:15])
    c.close()
    assert stats(b)["totals"]["errors"].get("response-truncated") == 0
