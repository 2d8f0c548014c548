"""adv8: an upload with `Expect: 100-continue` whose origin sends 103 Early Hints, but no 100, must not be a 504.

Item 97 made berth stand in for a 100 Continue an origin never sends (curl sends the body anyway after 1 s, Apache
HttpClient after 3 s; the socket timeout, 125 ms in the same-region profile, came first). It did so only while
nothing at all had come from the upstream, so an origin that sends `103 Early Hints` at once (a CDN edge, a framework
that hints its stylesheets before it reads the body) and then reads the body without a 100 still got every such
upload cut: the 103 went to the caller, which went on waiting for its 100, and at the socket timeout berth answered
504 "the request body stalled". A 103 answers no expectation. berth now sends its own 100 whenever the caller has had
no 100 and no final head is under way, whatever interim heads went before; an origin's 100 still stops it."""
import subprocess

import pytest

from hostile_wire import connect, read_to_end, status_of

BODY = 3 << 20
HINT = b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"


def _hints_then_reads(first=HINT):
    """An origin that answers each head with `first` at once, then reads the body and answers with its length."""
    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            conn.sendall(first)
            conn.read_body(msg)
            conn.respond(200, b"got %d" % len(msg.body or b""))
    return handler


def _waiting_client(addr, hp):
    """Sends the head with Expect; reads until a 100 or a final head came (up to 5 s), then sends the body
    anyway, as curl and HttpClient do; returns everything berth sent, to the end."""
    s = connect(addr, timeout=15)
    try:
        s.sendall(f"POST http://{hp}/up HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {BODY}\r\n"
                  f"Expect: 100-continue\r\nConnection: close\r\n\r\n".encode())
        s.settimeout(5)
        got = b""
        try:
            while True:
                heads = got.split(b"\r\n\r\n")[:-1]
                if any(not h.startswith(b"HTTP/1.1 1") or h.startswith(b"HTTP/1.1 100") for h in heads):
                    break
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except TimeoutError:
            pass
        heads = got.split(b"\r\n\r\n")[:-1]
        if not any(not h.startswith(b"HTTP/1.1 1") for h in heads):
            s.sendall(b"u" * BODY)
        rest, _ = read_to_end(s, timeout=15)
        return got + rest
    finally:
        s.close()


def _final(data):
    """The response after the interim heads (each `HTTP/1.1 1xx` head with its blank line)."""
    while data.startswith(b"HTTP/1.1 1"):
        data = data.split(b"\r\n\r\n", 1)[1]
    return data


@pytest.mark.parametrize("profile", ["same-region", "same-region-failover"])
def test_early_hints_then_no_100_still_gets_berths_100(berth, raw_origin, profile):
    o = raw_origin(_hints_then_reads())
    b = berth(profile=profile)
    data = _waiting_client(b.proxy, o.hostport)
    assert data.startswith(b"HTTP/1.1 103 Early Hints\r\n"), data[:300]
    after_hint = data.split(b"\r\n\r\n", 1)[1]
    assert after_hint.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data[:400]
    final = _final(data)
    assert status_of(final) == 200 and final.endswith(b"got %d" % BODY), data[:500]


def test_an_origins_own_100_after_early_hints_is_the_only_one(berth, raw_origin):
    """The origin sends 103 then 100 itself: the caller gets those two and the answer, and no 100 of berth's."""
    o = raw_origin(_hints_then_reads(HINT + b"HTTP/1.1 100 Continue\r\n\r\n"))
    b = berth(profile="same-region")
    data = _waiting_client(b.proxy, o.hostport)
    assert data.count(b"HTTP/1.1 100 Continue\r\n") == 1, data[:500]
    final = _final(data)
    assert status_of(final) == 200 and final.endswith(b"got %d" % BODY), data[:500]


def test_curl_upload_to_an_origin_that_hints_first(berth, raw_origin, tmp_path):
    """curl's own Expect for a 3 MiB upload: before, 504 after 125 ms, as soon as the 103 had gone out."""
    o = raw_origin(_hints_then_reads())
    b = berth(profile="same-region")
    up = tmp_path / "up.bin"
    up.write_bytes(b"u" * BODY)
    try:
        r = subprocess.run(["curl", "-sS", "-i", "-x", f"http://{b.proxy[0]}:{b.proxy[1]}", "--data-binary", f"@{up}",
                            f"http://{o.hostport}/up"], capture_output=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("curl is not installed")
    final = _final(r.stdout.replace(b"HTTP/1.1 100 Continue\r\n\r\n", b""))
    assert status_of(final) == 200 and final.endswith(b"got %d" % BODY), r.stdout[-400:]
