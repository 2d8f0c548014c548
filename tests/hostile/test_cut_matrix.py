"""Hidden truncation as a matrix: responses cut at every offset worth cutting, under each way an upstream connection can
end and each kind of caller. The caller sees a whole response equal to the origin's (only if the origin's framing
completed), or a cut it cannot miss: a reset, a missing last chunk, or berth's own 5xx before any byte; and the
`response-truncated` counter moves exactly when a relayed response was cut."""
import pytest

from berthkit.cut_caller import OWN_ANSWER, OWN_ANSWERS, Wire, read_final, read_response, request
from berthkit.cut_origin import (CHUNKED, CLOSE, CODED, EARLY_HINTS, ENDINGS, INTERIM, LENGTH, cuts_of, expected,
                                 head_cuts_of)
from cut_rig import Rig
from hostile_wire import connect

SILENCE = "300ms"
# The TLS and Unix-socket endings with fewer callers: the framing is the TCP cases'; what they add is the end itself.
CALLERS = {"tcp": ("keep-alive", "close", "http10", "http10-keep-alive", "pipelined", "head"),
           "tls": ("keep-alive", "http10", "head"), "unix": ("keep-alive", "http10", "head")}
# Each silence waits the socket timeout: its cases take the callers that show a cut differently (chunked, reset, HEAD).
SILENT_CALLERS = ("keep-alive", "http10", "head")


def matrix():
    for ending, transport in ENDINGS.items():
        for caller in SILENT_CALLERS if ending == "silence" else CALLERS[transport]:
            for r in (LENGTH, CHUNKED, CLOSE, CODED) + ((INTERIM,) if transport == "tcp" else ()):
                if caller == "head":
                    cuts = head_cuts_of(r) if r is LENGTH else [("whole", len(r.head))]
                else:
                    cuts = cuts_of(r)
                for cut, offset in cuts:
                    yield pytest.param(ending, caller, r, offset, id=f"{ending}-{caller}-{r.name}-{cut}")


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    r = Rig(tmp_path_factory.mktemp("cut"))
    yield r
    r.close()


@pytest.mark.parametrize("ending,caller,r,offset", list(matrix()))
def test_a_cut_response_is_whole_or_visibly_cut(rig, ending, caller, r, offset):
    transport = ENDINGS[ending]
    head_whole, origin_done, payload = expected(r, caller, ending, offset)
    wire = r.head if caller == "head" else r.wire
    case = rig.new_id()
    # The origin keeps serving after a silence only when its message was whole without the close.
    rig.cases[case] = (wire[:offset], ending, offset == len(wire) and (r.framing != "close" or caller == "head"))
    before = rig.truncated()
    method = "HEAD" if caller == "head" else "GET"
    sock = connect(rig.berth.proxy)
    try:
        sock.sendall(request(caller, rig.hosts[transport], case, timeout=SILENCE if ending == "silence" else None))
        w = Wire(sock, timeout=3)
        s = read_final(w, method)
        note = (wire[:offset], s, w.end, w.buf[:200])
        # The 103, once whole, reaches HTTP/1.1 callers only.
        forwarded = [103] if offset >= len(EARLY_HINTS) and r is INTERIM and not caller.startswith("http10") else []
        assert s.interim == forwarded, note
        assert s.problem is None, note
        if head_whole and r is CODED and caller.startswith("http10"):
            # A coding an HTTP/1.0 caller cannot be told of: refused before any byte (ResponsePlan.codingForHTTP10).
            assert (s.status, s.fields.get("berth-error"), s.complete) == (502, "invalid-response", True), note
            head_whole = False
        elif not head_whole:
            status, causes = OWN_ANSWERS.get(ending, OWN_ANSWER)
            assert (s.status, s.fields.get("berth-error")) in {(status, c) for c in causes} and s.complete, note
        else:
            assert s.status == 200 and s.fields.get("x-case") == r.name, note
            if s.complete:
                assert origin_done, ("the cut response reached the caller looking whole", note)
                assert s.payload == payload, note
                if s.framing == "chunked" and r is CHUNKED:
                    assert s.trailer.get("x-t") == "1", note
            else:
                assert not origin_done, ("a whole response was cut on its way", note)
                # A last chunk without its section's end passes for whole with lenient clients (http.client).
                assert not s.last_chunk, ("the cut response's last chunk was relayed", note)
                assert payload.startswith(s.payload), note
                assert w.end in ("fin", "reset"), ("the cut response left the caller waiting", note)
                if s.framing != "chunked":
                    assert w.end == "reset", ("a cut that framing cannot show ended without a reset", note)
        if s.complete:
            after_whole(rig, w, s, caller, rig.hosts[transport], note)
    finally:
        sock.close()
    assert rig.truncated() - before == (1 if head_whole and not s.complete else 0), note


def after_whole(rig, w, s, caller, host, note):
    """After a whole response: a connection kept alive carries the next request's answer, framed as its own (nothing
    left over between them); one that ends, ends with a FIN and no more bytes."""
    said = s.fields.get("connection", "").lower()
    if caller == "http10-keep-alive":
        kept = said == "keep-alive"
    else:
        kept = caller in ("keep-alive", "pipelined", "head") and said != "close"
    if not kept:
        assert w.rest() == b"" and w.end == "fin", note
        return
    if caller != "pipelined":
        w.sock.sendall(f"GET http://{host}/cut/ok HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    nxt = read_response(w, "GET")
    assert (nxt.status, nxt.payload, nxt.complete, nxt.fields.get("x-case")) == (200, b"ok", True, "ok"), (nxt, *note)
    assert w.buf == b"", note
