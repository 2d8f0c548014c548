"""A /pause after a pending forget was answered "paused" and then lost (review7).

`/evict?forget=true` on an upstream with connections only marks its entry to go when the last one closes. A /pause
that came next closed the idle connections, as a pause does, and the last close completed the forget: the entry
went with its pause, /stats no longer listed the upstream, and the next request went straight to the upstream the
orchestrator was freezing (the same with a busy connection: its release after the pause closed it and dropped the
entry). A pause now cancels a pending forget: the entry stays, paused, as a /pause after a completed forget makes a
new paused entry."""
import socket
import time

import pytest

from berthkit import RawClient, admin_json, get_req, wait_for


def _upstream(b, hp):
    return next((u for u in admin_json(b, "GET", "/stats")["upstreams"] if u["upstream"] == hp), None)


@pytest.mark.parametrize("idle_for", ["1h", None], ids=["idle-kept-by-idle_for", "busy-then-released"])
def test_a_pause_after_a_pending_forget_holds(berth, raw_origin, idle_for):
    def handler(conn):
        while (msg := conn.read_request()) is not None:
            if msg.target == "/slow":
                time.sleep(0.5)
            conn.respond(200, b"ok" + msg.target.encode())

    o = raw_origin(handler)
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1", "--acquire-timeout", "5s")
    slow = None
    if idle_for:
        assert RawClient(b.proxy).request(get_req(hp, "/warm"), "GET").status == 200
        wait_for(lambda: (_upstream(b, hp) or {}).get("idle") == 1, timeout=10, what="the idle connection")
        r = admin_json(b, "POST", f"/evict?upstream={hp}&idle_for={idle_for}&forget=true")
    else:
        slow = socket.create_connection(b.proxy)
        slow.sendall(get_req(hp, "/slow"))
        wait_for(lambda: (_upstream(b, hp) or {}).get("busy") == 1, timeout=10, what="the busy connection")
        r = admin_json(b, "POST", f"/evict?upstream={hp}&forget=true")
    assert r["forget_pending"] is True, r
    assert admin_json(b, "POST", f"/pause?upstream={hp}")["state"] == "paused"
    if slow:
        slow.settimeout(5)
        assert slow.recv(100).startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
    up = _upstream(b, hp)
    assert up is not None and up["state"] == "paused", up
    # A request now is held, not sent to the paused upstream.
    s = socket.create_connection(b.proxy)
    s.sendall(get_req(hp, "/after"))
    wait_for(lambda: (_upstream(b, hp) or {}).get("pending") == 1, timeout=5, what="the request held by the pause")
    admin_json(b, "POST", f"/resume?upstream={hp}")
    s.settimeout(5)
    assert s.recv(100).startswith(b"HTTP/1.1 200")
    s.close()
