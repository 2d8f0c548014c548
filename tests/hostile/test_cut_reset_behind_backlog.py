"""An upstream's reset read while bytes it sent before it still wait in berth's input (a relay turn spent its step
budget on a flood of 103 heads): those bytes go first, as ahead of a FIN, so a response they complete is relayed
whole; the reset then ends the exchange as a reset, never as the clean end a close-delimited body needs."""
import socket
import struct

import pytest

from berthkit import stats
from berthkit.cut_caller import Wire, read_final, request
from hostile_wire import connect

# 3,000 interim heads: far more than a relay turn's step budget (64), all read before the reset is.
FLOOD = b"HTTP/1.1 103 Early Hints\r\n\r\n" * 3000
FINALS = {"length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Case: final\r\n\r\nhello",
          "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: final\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
          "close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Case: final\r\n\r\nhello"}


def flood_then(final, ending):
    def handler(conn):
        conn.read_request()
        conn.sendall(FLOOD + final)
        if ending == "rst":
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
    return handler


def truncated(b):
    return stats(b)["totals"]["errors"]["response-truncated"]


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
@pytest.mark.parametrize("ending", ["rst", "fin"])
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_a_framed_response_whole_before_the_reset_is_relayed_whole(berth, raw_origin, framing, ending, caller):
    b = berth()
    o = raw_origin(flood_then(FINALS[framing], ending))
    c = connect(b.proxy)
    try:
        c.sendall(request(caller, o.hostport, "flood"))
        w = Wire(c, timeout=5)
        s = read_final(w, "GET")
        assert (s.status, s.fields.get("x-case"), s.payload, s.complete) == (200, "final", b"hello", True), (
            f"a whole response read ahead of the {ending} was not relayed", s.status, s.fields, len(s.interim))
    finally:
        c.close()
    assert truncated(b) == 0


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
def test_a_close_delimited_body_ended_by_a_reset_behind_a_backlog_stays_a_cut(berth, raw_origin, caller):
    b = berth()
    o = raw_origin(flood_then(FINALS["close"], "rst"))
    c = connect(b.proxy)
    try:
        c.sendall(request(caller, o.hostport, "flood"))
        w = Wire(c, timeout=5)
        s = read_final(w, "GET")
        assert s.status == 200 and s.fields.get("x-case") == "final" and not s.complete, (s, w.end)
        assert b"hello".startswith(s.payload), s.payload
        assert not s.last_chunk and (w.end == "reset" or (s.framing == "chunked" and w.end == "fin")), (s, w.end)
    finally:
        c.close()
    assert truncated(b) == 1
