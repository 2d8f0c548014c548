"""Peers that vanish without a word, as an adversary (h-vanish): an origin's established connections dropped or reset
by nftables while a request is at each stage; the caller must get its answer, a clean error, or a cut, never a hang."""
import socket
import struct
import threading
import time

import pytest

from berthkit import RawClient, admin, keepalive_loop, open_tunnel, stats, upstream_stats, wait_for
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI
from e2e_helpers import send, send_in_flight


def _echo(conn, msg):
    body = msg.body or b""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class _Counting:
    """An origin that answers each request with its body and counts the requests that reached it, by target."""

    def __init__(self, raw_origin):
        self.seen = []
        self.lock = threading.Lock()

        def respond(conn, msg):
            with self.lock:
                self.seen.append(msg.target)
            _echo(conn, msg)

        self.raw = raw_origin(keepalive_loop(respond))
        self.hostport, self.port = self.raw.hostport, self.raw.port


@pytest.mark.parametrize("flags", [["--dead-peer-timeout", "1s"], ["--dead-peer-timeout", "5s"]], ids=["equal", "above"])
def test_the_socket_timeout_still_makes_the_dead_peer_check(berth, raw_origin, vanish, flags):
    """docs/configuration.md: a dead-peer-timeout not below the socket timeout (as a destination's or a
    Berth-Socket-Timeout's may be) turns the *early* check off, and 'the socket timeout still makes the same check'.
    A POST on a pooled connection whose peer vanished must then go again at the socket timeout (its kernel
    acknowledged nothing). Before: no check at all, 504 read-timeout after two socket timeouts."""
    b = berth("--socket-timeout", "1s", *flags)
    o = _Counting(raw_origin)
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    vanish(o.port)
    r = send(b.proxy, o.hostport, method="POST", path="/after", body=b"after", timeout=15)
    assert (r.status, r.body) == (200, b"after"), r
    up = upstream_stats(b, o.hostport)
    assert up["replays"]["dead-peer"] == 1 and up["connections"]["closed"]["dead-peer"] == 1, up


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_an_address_taken_over_resets_and_only_an_idempotent_request_goes_again(berth, raw_origin, vanish, method):
    """The origin's address taken over by a host that never knew berth's pooled connection: the request written to
    it is answered by a reset. Nothing stale is delivered. A GET goes again on a fresh connection; a POST does not:
    a reset proves nothing about what was read (a server that read the head and crashed resets too, and a reset's
    acknowledgement is not counted by berth's kernel, so TCP_INFO cannot tell), so it is 502 upstream-reset and
    the server behind the address never sees it."""
    b = berth("--socket-timeout", "2s")
    o = _Counting(raw_origin)
    body = b"after" if method == "POST" else b""
    assert send(b.proxy, o.hostport, method=method, path="/warm", body=body).status == 200
    vanish(o.port, how="reset")
    r = send(b.proxy, o.hostport, method=method, path="/after", body=body, timeout=15)
    if method == "GET":
        assert (r.status, r.body) == (200, b""), r
        assert o.seen.count("/after") == 1, o.seen
    else:
        assert (r.status, r.cause) == (502, "upstream-reset"), r
        assert o.seen.count("/after") == 0, o.seen
    assert upstream_stats(b, o.hostport)["connections"]["closed"]["dead-peer"] == 0


def test_a_response_cut_by_a_vanish_reaches_the_caller_as_a_cut(berth, raw_origin, vanish):
    """The origin sends the head and half the body, then vanishes: the caller's connection is closed at the socket
    timeout (the answer cannot be completed), never left hanging, and the connection is not pooled."""
    started = threading.Event()

    def half(conn, msg):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 50)
        started.set()
        time.sleep(8)

    b = berth("--socket-timeout", "1s")
    o = raw_origin(keepalive_loop(half))
    s = socket.create_connection(b.proxy, timeout=10)
    s.sendall(f"GET http://{o.hostport}/ HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    assert started.wait(5)
    vanish(o.port)
    got, t0 = b"", time.monotonic()
    try:
        while chunk := s.recv(4096):
            got += chunk
    except ConnectionResetError:
        pass  # a reset is a cut too
    assert time.monotonic() - t0 < 8, "the caller was held until the origin's own sleep ended"
    assert len(got.split(b"\r\n\r\n", 1)[-1]) < 100, got
    assert upstream_stats(b, o.hostport)["idle"] == 0


def test_a_post_the_server_read_before_resetting_is_not_sent_again(berth, raw_origin):
    """The other side of the previous test: a server that reads the POST on the reused connection and then resets it
    (a crash, SO_LINGER 0) without answering. Its kernel's delayed ACK may never have left: the reset's own
    acknowledgement is not counted by berth's kernel, so 'nothing acknowledged' does not prove 'unread' here. The
    POST (not idempotent, replay idempotent by default) must not reach a server twice."""
    seen = []

    def handler(conn):
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            body = conn.read_body(msg)
            seen.append(msg.target)
            if msg.target.endswith("/warm"):
                conn.respond(200, body)
                continue
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sock.close()
            return

    b = berth("--socket-timeout", "2s")
    o = raw_origin(handler)
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    r = send(b.proxy, o.hostport, method="POST", path="/once", body=b"once", timeout=15)
    assert seen.count("/once") == 1, (seen, r)
    assert r.status == 502, r


def test_a_peer_gone_before_the_connect_is_a_connect_timeout(berth, raw_origin, vanish):
    """The whole host gone (SYNs dropped too) while a connection sits pooled: the request on it is found dead and
    goes again; the fresh connect is never answered, so the caller gets 504 connect-timeout at the connect
    timeout, not a hang, and nothing is left connecting."""
    b = berth("--socket-timeout", "2s", "--connect-timeout", "1s")
    o = _Counting(raw_origin)
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    vanish(o.port, how="all")
    r = send(b.proxy, o.hostport, method="POST", path="/after", body=b"after", timeout=15)
    assert (r.status, r.cause) == (504, "connect-timeout"), r
    assert r.elapsed < 5, r
    up = upstream_stats(b, o.hostport)
    assert up["connecting"] == 0 and up["busy"] == 0 and up["idle"] == 0, up


def test_a_request_sent_while_the_keepalive_probes_are_still_out(berth, raw_origin, vanish):
    """An idle pooled connection whose peer vanished 6 s ago (one keepalive probe unanswered, the kernel has not
    given up yet): the request written to it is found dead by acknowledgement and goes again once."""
    b = berth("--socket-timeout", "2s", "--idle-timeout", "60s")
    o = _Counting(raw_origin)
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    vanish(o.port)
    time.sleep(6.5)
    assert upstream_stats(b, o.hostport)["idle"] == 1
    r = send(b.proxy, o.hostport, method="POST", path="/after", body=b"after", timeout=15)
    assert (r.status, r.body) == (200, b"after"), r
    assert o.seen.count("/after") == 1, o.seen
    assert upstream_stats(b, o.hostport)["replays"]["dead-peer"] == 1


def test_a_tls_upstream_that_vanished_is_found_dead_by_its_ciphertext_counts(berth, vanish, tmp_path):
    """Over TLS the request's bytes are ciphertext (the handshake and records counted by OpenSSL): a POST on a
    pooled https:// connection whose peer vanished is still found unacknowledged and goes again once."""
    (tmp_path / "pki").mkdir()
    pki = PKI(str(tmp_path / "pki"))
    o = TLSOrigin(pki.server, pki.server_key)
    try:
        hp = f"127.0.0.1:{o.port}"
        b = berth("--socket-timeout", "3s", env={"SSL_CERT_FILE": pki.ca})

        def post(path, body):
            c = RawClient(b.proxy, 15)
            try:
                t0 = time.monotonic()
                raw = (f"POST https://{hp}{path} HTTP/1.1\r\nHost: {hp}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
                return c.request(raw, "POST"), time.monotonic() - t0
            finally:
                c.close()

        assert post("/warm", b"warm")[0].status == 200
        vanish(o.port)
        r, took = post("/after", b"after")
        assert r.status == 200 and took < 3, (r.status, r.body, took)
        pool = next(u for u in stats(b)["upstreams"] if u["upstream"] == f"https://{hp}")
        assert pool["replays"]["dead-peer"] == 1, pool
        assert o.requests.count("/after") == 1, o.requests
    finally:
        o.close()


def test_a_peer_that_vanishes_after_the_tcp_connect_is_a_tls_handshake_timeout(berth, vanish, tmp_path):
    """The TCP handshake completes, then the ClientHello is lost forever (the peer vanished between): 504
    tls-handshake-timeout at that timeout, not a hang, nothing left connecting."""
    (tmp_path / "pki").mkdir()
    pki = PKI(str(tmp_path / "pki"))
    o = TLSOrigin(pki.server, pki.server_key)
    try:
        hp = f"127.0.0.1:{o.port}"
        b = berth("--tls-handshake-timeout", "1s", env={"SSL_CERT_FILE": pki.ca})
        vanish(o.port, how="payload")
        c = RawClient(b.proxy, 15)
        t0 = time.monotonic()
        try:
            r = c.request(f"GET https://{hp}/ HTTP/1.1\r\nHost: {hp}\r\n\r\n".encode(), "GET")
        finally:
            c.close()
        took = time.monotonic() - t0
        assert r.status == 504 and b"tls-handshake-timeout" in r.body, (r.status, r.body)
        assert took < 5, took
        pool = next(u for u in stats(b)["upstreams"] if u["upstream"] == f"https://{hp}")
        assert pool["connecting"] == 0 and pool["open"] == 0, pool
    finally:
        o.close()


def _post_out_on_a_vanished_connection(b, o, vanish):
    """Warms a pooled connection to `o`, makes its peer vanish and sends POST /after on it from a thread; returns
    once berth has it out (busy 1), with finish(): the POST joined, answered 200 with its body, and seen by the
    origin once."""
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"warm").status == 200
    vanish(o.port)
    result = send_in_flight(b, o.hostport, method="POST", path="/after", body=b"after", timeout=20)

    def finish():
        r = result()
        assert (r.status, r.body) == (200, b"after"), r
        assert o.seen.count("/after") == 1, o.seen

    return finish


def test_a_dead_peer_retry_waits_for_a_pause_made_meanwhile(berth, raw_origin, vanish):
    """/pause lands while a POST sits on a pooled connection whose peer vanished (inside the dead-peer timeout,
    2 s here): the retry that follows must not go out while paused; it is held and sent once at /resume."""
    b = berth("--socket-timeout", "5s", "--dead-peer-timeout", "2s")
    o = _Counting(raw_origin)
    finish = _post_out_on_a_vanished_connection(b, o, vanish)
    assert admin(b, "POST", f"/pause?upstream={o.hostport}&hold=10s").status == 200
    time.sleep(3)  # past the dead-peer timeout: the retry is due, and must be held
    assert "/after" not in o.seen, o.seen
    assert admin(b, "POST", f"/resume?upstream={o.hostport}").status == 200
    finish()


def test_a_forget_while_a_dead_peer_check_is_armed(berth, raw_origin, vanish):
    """/evict?forget=true lands while a POST sits on a pooled connection whose peer vanished: the request is found
    dead, goes again once on a fresh connection (of the endpoint's new entry), and nothing is left busy."""
    b = berth("--socket-timeout", "5s", "--dead-peer-timeout", "1s")
    o = _Counting(raw_origin)
    finish = _post_out_on_a_vanished_connection(b, o, vanish)
    assert admin(b, "POST", f"/evict?upstream={o.hostport}&forget=true").status == 200
    finish()
    wait_for(lambda: (upstream_stats(b, o.hostport) or {}).get("busy", 0) == 0, what="nothing busy after the forget")


def _ping_until_ended(sock, seconds=15):
    """Sends a small ping every 0.3 s on `sock`, reading what comes back, until its connection ends: how it ended
    ('eof' or the error), or None if it was still open after `seconds`."""
    sock.settimeout(0.3)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sock.sendall(b"ping")
            if sock.recv(16) == b"":
                return "eof"
        except socket.timeout:
            pass
        except OSError as e:
            return repr(e)
    return None


@pytest.mark.parametrize("gone", ["upstream", "caller"])
def test_a_tunnel_whose_peer_vanished_ends_though_the_other_keeps_talking(berth, raw_origin, vanish, gone):
    """A CONNECT tunnel (a WebSocket, say) one end of which vanishes while the other keeps sending a small ping every
    0.3 s: the caller (`upstream` gone) or the origin, as a server push (`caller` gone). Nothing of it is ever
    acknowledged, and nothing comes back. Each ping restarted the tunnel's idle timeout (2 s here), so the tunnel
    stayed open until the kernel gave up retransmitting (about 15 minutes, tcp_retries2): the talking end hung. It
    must end within a few idle timeouts, and nothing be left busy."""
    ended = {}
    origin_done = threading.Event()

    def origin_side(conn):
        if gone == "upstream":
            while data := conn.sock.recv(4096):  # an echo
                conn.sock.sendall(data)
        else:
            ended["how"] = _ping_until_ended(conn.sock)
            origin_done.set()

    o = raw_origin(origin_side)
    b = berth("--caller-idle-timeout", "2s", "--connect-port", str(o.port))
    s = open_tunnel(b, o)
    try:
        if gone == "upstream":
            s.sendall(b"ping")
            assert s.recv(16) == b"ping"
            vanish(o.port)
            ended["how"] = _ping_until_ended(s)
        else:
            assert s.recv(4) == b"ping"
            vanish(b.proxy[1])
            assert origin_done.wait(20)
    finally:
        s.close()
    assert ended["how"] is not None, f"the tunnel whose {gone} vanished was still open after 15 s of pings"
    assert upstream_stats(b, o.hostport)["busy"] == 0
