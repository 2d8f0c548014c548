"""smuggle: a bad head (or a header timeout) on a keep-alive connection after a request was answered was taken for a
cut of that answer: berth's error answer was never written and the caller was reset (which can destroy the answer to
its good request in the caller's kernel), the cause counted against the previous upstream. HAProxy 2.6 and nginx 1.22
answer 400 and close with a FIN; so does berth now, as for a bad first head."""
import socket
import time

import pytest

from hostile_wire import connect, read_to_end
from smuggle_wire import RecordingOrigin

GOOD = "{M} http://{A}/a HTTP/1.1\r\nHost: {A}\r\n\r\n"
BAD_HEADS = ["garbage\r\n\r\n", "GET  /x HTTP/1.1\r\n\r\n", "G(T http://{A}/x HTTP/1.1\r\nHost: {A}\r\n\r\n",
             "POST http://{A}/x HTTP/1.1\r\nHost: {A}\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"]


def statuses(raw):
    return [int(line.split(b" ")[1]) for line in raw.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")]


@pytest.mark.parametrize("together", [True, False], ids=["pipelined", "after-the-answer"])
@pytest.mark.parametrize("bad", BAD_HEADS)
def test_a_bad_second_head_gets_its_400_and_a_fin(berth, bad, together):
    b = berth()
    origin = RecordingOrigin()
    try:
        s = connect(b.proxy)
        good = GOOD.replace("{M}", "GET").replace("{A}", origin.authority).encode()
        bad = bad.replace("{A}", origin.authority).encode()
        if together:
            s.sendall(good + bad)
        else:
            s.sendall(good)
            time.sleep(0.3)
            s.sendall(bad)
        raw, how = read_to_end(s, timeout=5)
        s.close()
        assert statuses(raw) == [200, 400], raw
        assert how == "fin", (how, raw)
        assert origin.received().count(b" HTTP/1.1\r\n") == 1, origin.received()
    finally:
        origin.close()


def test_a_bad_head_after_a_head_request_gets_a_whole_400(berth):
    b = berth()
    origin = RecordingOrigin()
    try:
        s = connect(b.proxy)
        s.sendall(GOOD.replace("{M}", "HEAD").replace("{A}", origin.authority).encode() + b"garbage\r\n\r\n")
        raw, how = read_to_end(s, timeout=5)
        s.close()
        assert statuses(raw) == [200, 400] and how == "fin", (how, raw)
        error = raw[raw.index(b"HTTP/1.1 400"):]
        head, _, body = error.partition(b"\r\n\r\n")
        assert body and len(body) == int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]), error
    finally:
        origin.close()


def test_a_second_head_that_never_ends_gets_its_408_and_a_fin(berth):
    b = berth("--header-timeout", "1s")
    origin = RecordingOrigin()
    try:
        s = connect(b.proxy)
        s.sendall(GOOD.replace("{M}", "GET").replace("{A}", origin.authority).encode() + b"GET http://x/ HTTP/1.1\r\n")
        raw, how = read_to_end(s, timeout=5)
        s.close()
        assert statuses(raw) == [200, 408] and how == "fin", (how, raw)
    finally:
        origin.close()
