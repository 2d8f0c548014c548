"""A chunked body whose framing breaks after its head went out (a bad size, data not followed by CRLF, a size past
any bound, a bare LF, a space in the size line, a malformed trailer field): berth cannot answer any more, so the
caller sees a cut it cannot miss (a missing last chunk, a reset for HTTP/1.0), counted as `response-truncated`."""
import pytest

from berthkit.cut_caller import Wire, read_response, request
from cut_rig import Rig
from hostile_wire import connect

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: broken\r\n\r\n5\r\nhello\r\n"
BROKEN = {"bad-size": b"zz\r\nxx\r\n0\r\n\r\n", "no-crlf-after-data": b"5\r\nworldXX0\r\n\r\n",
          "huge-size": b"ffffffffffffffffff\r\n", "bare-lf": b"5\nworld\r\n0\r\n\r\n",
          "space-in-size": b"5 \r\nworld\r\n0\r\n\r\n", "bad-trailer-field": b"0\r\nBad Field\r\n\r\n"}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("broken"))
    yield r
    r.close()


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
@pytest.mark.parametrize("transport", ["tcp", "tls"])
@pytest.mark.parametrize("name", BROKEN)
def test_framing_broken_after_the_head_shows_as_a_cut(rig, name, transport, caller):
    case = rig.new_id()
    # The head and a first chunk first, so they are relayed before the broken bytes arrive.
    rig.cases[case] = ([HEAD, 0.05, BROKEN[name]], "silence", False)
    before = rig.truncated()
    sock = connect(rig.berth.proxy)
    try:
        sock.sendall(request(caller, rig.hosts[transport], case))
        w = Wire(sock, timeout=3)
        s = read_response(w, "GET")
        note = (name, s, w.end)
        assert s.status == 200 and s.fields.get("x-case") == "broken" and not s.complete, note
        assert s.payload in (b"hello", b"helloworld"), note
        assert not s.last_chunk and (w.end == "reset" or (s.framing == "chunked" and w.end == "fin")), note
    finally:
        sock.close()
    assert rig.truncated() == before + 1
