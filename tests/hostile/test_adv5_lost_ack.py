"""A live origin whose one ACK of a POST was lost is not a dead peer: the POST must reach it once.

The dead-peer check takes a request on a reused connection that the peer's kernel has not acknowledged after 250 ms
and a round trip for one sent to a vanished peer, and sends it again on a fresh connection whatever its method. An
ACK can be lost on the way back, though, and only berth's retransmission (one retransmission timeout after the send,
200 ms plus the round trip at the least, more where a route raises `rto_min`) brings another: a look before that
took the live server, which had read the POST, for a dead one. Here berth and the origin run in a network namespace
of the test's own whose loopback route has `rto_min 600ms` (a path where the retransmission comes after the look, as
on any path with a round trip over ~50 ms), and nftables drops the origin's first pure ACK after the request."""
import socket
import threading
import time

import pytest

from berthkit import RawClient, RawOrigin, keepalive_loop, stats, upstream_stats
from berthkit.http_wire import BufferedSocket
from berthkit.netns import NetNamespace, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")

ORIGIN_HOST = "127.0.0.2"


class _UnixCaller(RawClient):
    """A caller on berth's Unix-socket listener (the test stays outside the namespace)."""

    def __init__(self, path, timeout=10.0):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        BufferedSocket.__init__(self, s, timeout)


def _post(b, hostport, path, body):
    c = _UnixCaller(b.proxy)
    try:
        req = (f"POST http://{hostport}{path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Length: {len(body)}\r\n\r\n"
               .encode() + body)
        return c.request(req, "POST")
    finally:
        c.close()


@pytest.fixture
def rig(berth, tmp_path):
    """(berth, origin, namespace, deliveries) with the origin at 127.0.0.2 inside the namespace, answering /slow a
    second late (so its kernel's ACK of the request is a pure, delayed one)."""
    ns = NetNamespace()
    origin = None
    try:
        ns.run("ip", "route", "replace", "local", "127.0.0.0/8", "dev", "lo", "table", "local", "rto_min", "600ms",
               "proto", "kernel", "scope", "host", "src", "127.0.0.1")
        deliveries, lock = [], threading.Lock()

        def respond(conn, msg):
            with lock:
                deliveries.append(msg.target)
            if msg.target.startswith("/slow"):
                time.sleep(1.0)
            conn.respond(200, msg.body or b"")

        origin = ns.inside(lambda: RawOrigin(keepalive_loop(respond), host=ORIGIN_HOST))
        b = berth("--socket-timeout", "3s", "--listen", f"unix:{tmp_path / 'proxy.sock'}",
                  "--admin", f"unix:{tmp_path / 'admin.sock'}", wrapper=ns.wrapper)
        yield b, origin, ns, deliveries
    finally:
        if origin is not None:
            origin.close()
        ns.close()


def _settled(b):
    t = stats(b.admin)["totals"]
    assert t["open"] == t["idle"] + t["busy"] + t["connecting"], t
    assert min(t[k] for k in ("open", "idle", "busy", "connecting", "pending")) >= 0, t


def test_a_post_whose_ack_was_lost_reaches_the_origin_once(rig):
    b, origin, ns, deliveries = rig
    assert _post(b, origin.hostport, "/warm", b"w").status == 200
    ns.run("nft", "add", "table", "inet", "adv5")
    ns.run("nft", "add", "chain", "inet", "adv5", "input", "{ type filter hook input priority -10 ; policy accept ; }")
    # The first pure ACK the origin sends berth (its delayed ACK of the POST, 40 ms after it) is lost; the next passes.
    ns.run("nft", "add", "rule", "inet", "adv5", "input", "tcp", "sport", str(origin.port), "tcp", "flags", "==", "ack",
           "ip", "length", "52", "quota", "until", "52", "bytes", "counter", "drop")
    r = _post(b, origin.hostport, "/slow", b"run-me-once")
    assert r.status == 200, (r.status, r.headers)
    assert "packets 1" in ns.run("nft", "list", "table", "inet", "adv5"), "the ACK was not dropped: no test"
    assert deliveries.count("/slow") == 1, deliveries
    up = upstream_stats(b.admin, origin.hostport)
    assert up["replays"]["dead-peer"] == 0 and up["connections"]["closed"]["dead-peer"] == 0, up
    _settled(b)


def test_a_peer_gone_on_the_same_path_is_still_found_dead(rig):
    """The other side: where berth's retransmission comes late, a peer that is truly gone is still a dead peer, and
    the POST goes again on a fresh connection (found after the retransmission, not at the socket timeout)."""
    b, origin, ns, deliveries = rig
    assert _post(b, origin.hostport, "/warm", b"w").status == 200
    ns.run("nft", "add", "table", "inet", "adv5")
    ns.run("nft", "add", "chain", "inet", "adv5", "input", "{ type filter hook input priority -10 ; policy accept ; }")
    ports = ns.run("ss", "-Htn", "state", "established", f"( dport = :{origin.port} )").split()
    client = [p.rsplit(":", 1)[1] for p in ports if p.startswith("127.0.0.1:")]
    assert len(client) == 1, ports
    ns.run("nft", "add", "rule", "inet", "adv5", "input", "tcp", "dport", str(origin.port), "tcp", "sport", client[0],
           "drop")
    ns.run("nft", "add", "rule", "inet", "adv5", "input", "tcp", "sport", str(origin.port), "tcp", "dport", client[0],
           "drop")
    t0 = time.monotonic()
    r = _post(b, origin.hostport, "/gone", b"again")
    took = time.monotonic() - t0
    assert r.status == 200, (r.status, r.headers)
    assert deliveries.count("/gone") == 1, deliveries
    up = upstream_stats(b.admin, origin.hostport)
    assert up["replays"]["dead-peer"] == 1 and up["connections"]["closed"]["dead-peer"] == 1, up
    assert took < 3.0, "found by the socket timeout, not as a dead peer"
    _settled(b)
