"""A large response cut while its caller reads slowly: berth holds megabytes for the caller and has stopped reading
the upstream (high water) when the cut happens, so the cut is found only once the caller catches up. The caller
still gets every byte the origin sent before the cut, in order, and then the cut it cannot miss; a response the
origin finished before its RST is still whole."""
import socket
import time

import pytest

from berthkit.cut_caller import Wire, read_response, request
from cut_rig import Rig
from hostile_wire import connect

BODY = bytes(range(256)) * 16384  # 4 MiB, every byte's place visible
CUT_AT = 3 << 20


def wire(framing):
    if framing == "length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nX-Case: big\r\n\r\n" % len(BODY) + BODY
    if framing == "chunked":
        runs = [BODY[i:i + 65536] for i in range(0, len(BODY), 65536)]
        return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: big\r\n\r\n"
                + b"".join(b"%x\r\n" % len(r) + r + b"\r\n" for r in runs) + b"0\r\n\r\n")
    return b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Case: big\r\n\r\n" + BODY


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("slow"))
    yield r
    r.close()


def payload_in(framing, sent, body_start):
    """The payload bytes among `sent`: a chunk cut short counts with the part of its data that came."""
    if framing != "chunked":
        return sent[body_start:]
    out, rest = b"", sent[body_start:]
    while b"\r\n" in rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        out += rest[:size]
        if size == 0 or len(rest) < size + 2:
            break
        rest = rest[size + 2:]
    return out


@pytest.mark.parametrize("caller", ["keep-alive", "http10"])
@pytest.mark.parametrize("ending", ["rst", "fin", "silence"])
@pytest.mark.parametrize("whole", [False, True], ids=["cut", "whole"])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_a_large_response_cut_behind_a_slow_reader(rig, framing, whole, ending, caller):
    data = wire(framing)
    body_start = data.index(b"\r\n\r\n") + 4
    sent = data if whole else data[:body_start + CUT_AT]
    expect = payload_in(framing, sent, body_start)
    # A FIN ends a close-delimited body wherever it comes. An RST drops what the origin's kernel still held (berth
    # stopped reading): what arrives is some prefix, whole or cut, and the caller must be able to tell which.
    origin_done = (whole and framing != "close" and ending != "rst") or (framing == "close" and ending == "fin")
    case = rig.new_id()
    rig.cases[case] = (sent, ending, whole and framing != "close")
    before = rig.truncated()
    sock = connect(rig.berth.proxy)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(request(caller, rig.hosts["tcp"], case, timeout="1s" if ending == "silence" else None))
        # The caller reads nothing for a while: berth's output to it passes high water and the upstream is not read.
        time.sleep(0.4)
        w = Wire(sock, timeout=8)
        s = read_response(w, "GET")
        note = (framing, whole, ending, caller, s.status, s.framing, s.complete, len(s.payload), len(expect), w.end)
        assert s.status == 200 and s.fields.get("x-case") == "big", note
        assert expect.startswith(s.payload), ("the bytes relayed are not the origin's, in order", note)
        if s.complete:
            assert origin_done or (ending == "rst" and whole and framing != "close"), ("a cut looked whole", note)
            assert s.payload == expect, note
        else:
            assert not origin_done, ("a whole response was cut", note)
            assert not s.last_chunk and (w.end == "reset" or (s.framing == "chunked" and w.end == "fin")), note
            # Every byte before the cut arrived, unless a reset dropped some (docs/architecture.md).
            assert s.payload == expect or "rst" in (ending, w.end) or w.end == "reset", note
    finally:
        sock.close()
    assert rig.truncated() - before == (0 if s.complete else 1), note
