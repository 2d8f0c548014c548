"""A hostile origin against the response relay: oversized and malformed trailer sections, bytes behind a bodiless or
chunked answer, odd Content-Length spellings. Each must end as a clean 502 before the head or a visible cut after
it, and never let the origin's extra bytes answer a later request."""
import time

import pytest

from berthkit import stats
from hostile_wire import connect, header_of, read_to_end, rss_kib, status_of

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"


def send_then_hold(*pieces, hold=1.0):
    def handler(conn):
        conn.read_request()
        try:
            for p in pieces:
                conn.sendall(p)
                time.sleep(0.1)
        except OSError:
            pass
        time.sleep(hold)
    return handler


def fetch(b, o, method="GET", version="1.1"):
    c = connect(b.proxy)
    c.sendall(f"{method} http://{o.hostport}/x HTTP/{version}\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw, how = read_to_end(c, timeout=5)
    c.close()
    return raw, how


@pytest.mark.parametrize("trailer", [
    b"X-Pad: " + b"a" * (1 << 20) + b"\r\n\r\n",
    b"X-A: 1\r\n" * 100_000 + b"\r\n",
], ids=["1MiB-line", "100k-lines"])
def test_an_oversized_trailer_section_is_cut_not_buffered(berth, raw_origin, trailer):
    b = berth()
    o = raw_origin(send_then_hold(CHUNKED, b"0\r\n" + trailer))
    before = rss_kib(b.proc.pid)
    raw, how = fetch(b, o)
    body = raw.partition(b"\r\n\r\n")[2]
    assert status_of(raw) == 200 and body == b"5\r\nhello\r\n", (how, body[:100])
    assert how in ("fin", "reset"), how
    assert rss_kib(b.proc.pid) - before < 8 * 1024
    assert stats(b)["totals"]["errors"].get("response-truncated") == 1


@pytest.mark.parametrize("section", [b"X-A: 1\nX-B: 2\r\n\r\n", b"X-A: a\x00b\r\n\r\n", b"X-A: 1\r\n\n",
                                     b" folded\r\n\r\n", b"X A: 1\r\n\r\n"],
                         ids=["bare-LF", "NUL", "bare-LF-end", "obs-fold", "space-in-name"])
def test_a_malformed_trailer_is_a_visible_cut(berth, raw_origin, section):
    """After the head went out (a broken trailer in the head's own read gets a clean 502 instead)."""
    b = berth()
    o = raw_origin(send_then_hold(CHUNKED, b"0\r\n" + section))
    raw, how = fetch(b, o)
    body = raw.partition(b"\r\n\r\n")[2]
    assert status_of(raw) == 200 and body == b"5\r\nhello\r\n", (how, body)
    assert how in ("fin", "reset"), how
    assert stats(b)["totals"]["errors"].get("response-truncated") == 1


UNSOLICITED = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nSMUGGLED!"


@pytest.mark.parametrize("first", [
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 204 No Content\r\n\r\nhello",
    CHUNKED + b"0\r\n\r\n" + UNSOLICITED,
    CHUNKED + b"0\r\nX-T: 1\r\n\r\n" + UNSOLICITED,
], ids=["304-with-body", "204-with-body", "chunked-then-response", "trailer-then-response"])
def test_bytes_after_an_answer_never_answer_the_next_request(berth, raw_origin, first):
    """The caller pipelines a second request; the origin's extra bytes must not be taken for its answer, and the
    connection that carried them is not pooled."""
    answers = []

    def handler(conn):
        req = conn.read_request()
        answers.append(req.target)
        conn.sendall(first if len(answers) == 1 else b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
        time.sleep(1)

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    req = f"GET http://{o.hostport}/x HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode()
    c.sendall(req)
    time.sleep(0.3)
    c.sendall(req)
    raw, _ = read_to_end(c, timeout=3)
    c.close()
    assert b"SMUGGLED" not in raw, raw
    assert raw.count(b"hello") == (1 if first.startswith(CHUNKED) else 0), raw
    assert raw.endswith(b"second"), raw


@pytest.mark.parametrize("value,ok", [(b"005", True), (b" 5 ", True), (b"+5", False), (b"0x5", False), (b"5 5", False),
                                      (b"-5", False), (b"5,5", True), (b"5, 6", False)])
def test_content_length_spellings(berth, raw_origin, value, ok):
    b = berth()
    o = raw_origin(send_then_hold(b"HTTP/1.1 200 OK\r\nContent-Length:" + value + b"\r\n\r\nhello"))
    raw, how = fetch(b, o)
    if ok:
        assert status_of(raw) == 200 and raw.endswith(b"hello"), raw
        assert header_of(raw, "Content-Length") in ("5", "005", "5,5"), raw
    else:
        assert status_of(raw) == 502 and header_of(raw, "Berth-Error") == "invalid-response", raw


def test_a_101_to_a_request_that_did_not_ask_is_refused(berth, raw_origin):
    b = berth()
    o = raw_origin(send_then_hold(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n"
                                  + UNSOLICITED))
    raw, how = fetch(b, o)
    assert status_of(raw) == 502 and b"SMUGGLED" not in raw, raw


def test_a_1xx_with_a_body_is_not_a_final_answer(berth, raw_origin):
    b = berth()
    o = raw_origin(send_then_hold(b"HTTP/1.1 103 Early Hints\r\nContent-Length: 4\r\n\r\nbody" + UNSOLICITED))
    raw, how = fetch(b, o)
    assert b"SMUGGLED" not in raw, raw
    assert status_of(raw.split(b"\r\n\r\n", 1)[1] if raw.startswith(b"HTTP/1.1 103") else raw) == 502, raw


def _chunked_of_total(total):
    """A chunked 200 whose head, chunks and last chunk together are `total` bytes."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    for n in range(1, total):
        answer = head + b"%x\r\n" % n + b"c" * n + b"\r\n0\r\n\r\n"
        if len(answer) == total:
            return answer, n
    raise AssertionError(total)


def test_unsolicited_response_behind_a_read_sized_chunked_answer_is_never_relayed(berth):
    """As test_upstream_extra_bytes_boundary, with a chunked answer whose last chunk (held until whole) ends where a
    read ends, the unsolicited response right behind it in the same write."""
    from test_upstream_extra_bytes_boundary import _origin
    b = berth()
    for total in (4096, 4095, 4097):
        first, n = _chunked_of_total(total)
        lsock, stop, t = _origin(first)
        hostport = "127.0.0.1:%d" % lsock.getsockname()[1]
        try:
            for _ in range(3):
                s = connect(b.proxy)
                s.sendall(f"GET http://{hostport}/1 HTTP/1.1\r\nHost: {hostport}\r\n\r\n"
                          f"GET http://{hostport}/2 HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
                raw = b""
                s.settimeout(5)
                while not raw.endswith(b"REAL") and b"EVIL" not in raw:
                    got = s.recv(65536)
                    assert got, raw[-300:]
                    raw += got
                s.close()
                assert b"EVIL" not in raw, f"answer of {total} bytes: the unsolicited response was relayed"
                assert raw.count(b"c" * n) == 1 and b"\r\n0\r\n\r\nHTTP/1.1 200 OK" in raw, raw[-300:]
        finally:
            stop.append(1)
            lsock.close()
            t.join(2)


def test_bytes_after_an_answer_to_head_never_answer_the_next_request(berth, raw_origin):
    answers = []

    def handler(conn):
        conn.read_request_head()
        answers.append(1)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" if len(answers) == 1
                     else b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond")
        time.sleep(1)

    b = berth()
    o = raw_origin(handler)
    c = connect(b.proxy)
    c.sendall(f"HEAD http://{o.hostport}/x HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(0.3)
    c.sendall(f"GET http://{o.hostport}/x HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    raw, _ = read_to_end(c, timeout=3)
    c.close()
    assert b"hello" not in raw and raw.endswith(b"second"), raw
