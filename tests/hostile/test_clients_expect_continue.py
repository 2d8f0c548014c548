"""clients: an upload with `Expect: 100-continue` to an origin that never sends 100 Continue must not be a 504.

curl adds `Expect: 100-continue` to any upload over 1 MiB and sends the body anyway after 1 s without a 100;
Apache HttpClient waits 3 s. An origin that does not implement expectations (RFC 9110 10.1.1 lets it read the body
without a 100) answers once the body is in. Straight to such an origin every upload succeeds; through berth the
socket timeout (125 ms in the same-region profile, 1 s in same-region-failover) fired first, while the caller was
still waiting for the 100, and the upload got 504 `read-timeout` ("the request body stalled"). berth now stands in
for the missing 100 when its socket timeout comes with nothing of the body sent and nothing from the upstream: it
sends the caller `100 Continue` (an HTTP/1.1 caller only) and waits the socket timeout once more."""
import subprocess

import pytest

from hostile_wire import connect, read_to_end, status_of

BODY = 3 << 20


def _no_continue(conn):
    """An origin that ignores Expect: it reads the whole body, then answers with its length."""
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        conn.respond(200, b"got %d" % len(msg.body or b""))


def _waiting_client(addr, hp, version="HTTP/1.1"):
    """Sends the head with Expect, waits (as curl and HttpClient do) for a 100 or an answer for up to 5 s, then
    sends the body anyway; returns everything berth sent, to the end."""
    s = connect(addr, timeout=15)
    try:
        s.sendall(f"POST http://{hp}/up {version}\r\nHost: {hp}\r\nContent-Length: {BODY}\r\n"
                  f"Expect: 100-continue\r\nConnection: close\r\n\r\n".encode())
        s.settimeout(5)
        first = b""
        try:
            first = s.recv(65536)
        except TimeoutError:
            pass
        if first.startswith(b"HTTP/1.1 100") or not first:
            s.sendall(b"u" * BODY)
        rest, _ = read_to_end(s, timeout=15)
        return first + rest
    finally:
        s.close()


@pytest.mark.parametrize("profile", ["same-region", "same-region-failover"])
def test_a_caller_waiting_for_100_continue_gets_one_and_its_answer(berth, raw_origin, profile):
    o = raw_origin(_no_continue)
    b = berth(profile=profile)
    data = _waiting_client(b.proxy, o.hostport)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data[:200]
    final = data.split(b"\r\n\r\n", 1)[1]
    assert status_of(final) == 200 and final.endswith(b"got %d" % BODY), final[:300]


def test_curl_uploads_through_the_same_region_profile(berth, raw_origin, tmp_path):
    """curl's own Expect for a 3 MiB upload: before, 504 after 125 ms; straight to the origin, 200 after 1 s."""
    o = raw_origin(_no_continue)
    b = berth(profile="same-region")
    f = tmp_path / "body"
    f.write_bytes(b"c" * BODY)
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "--proxy", f"http://{b.proxy[0]}:{b.proxy[1]}",
                        "--data-binary", f"@{f}", "-w", " [%{http_code}]", f"http://{o.hostport}/up"],
                       capture_output=True, text=True, timeout=30)
    assert r.stdout == f"got {BODY} [200]", (r.stdout[-300:], r.stderr[-300:])


def test_an_http10_caller_gets_no_100(berth, raw_origin):
    """RFC 9110 15.2: no 1xx to an HTTP/1.0 client; the timeout answers as before."""
    o = raw_origin(_no_continue)
    b = berth(profile="same-region")
    data = _waiting_client(b.proxy, o.hostport, version="HTTP/1.0")
    assert not data.startswith(b"HTTP/1.1 100"), data[:200]
