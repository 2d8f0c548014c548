"""review5: a /pause answered "paused" stays in force. Before: with a forget pending on an upstream (its tunnel still
open), the tunnel's end answered a waiting `/pause?drain=`, and the commands pipelined after it on that admin
connection ran inside that end: `/evict?forget=true` dropped the entry and `/pause` made a new, paused one, which
the end of the tunnel then forgot by its name. The orchestrator was told "paused" and /stats knew no such upstream:
requests flowed to the container it had frozen. After: an end forgets its own entry only, never a newer one."""
import time

from berthkit import admin, admin_json
from hostile_wire import connect, read_to_end, status_of


def test_pause_made_while_a_tunnel_ends_is_not_forgotten(berth, raw_origin):
    def hold(conn):
        while conn.read_some():
            pass

    o = raw_origin(hold)
    b = berth("--connect-port", str(o.port))
    tunnel = connect(b.proxy)
    try:
        tunnel.sendall(f"CONNECT {o.hostport} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        assert tunnel.recv(1000).startswith(b"HTTP/1.1 200"), "the tunnel did not open"
        evicted = admin_json(b.admin, "POST", f"/evict?upstream={o.hostport}&forget=true")
        assert evicted["forget_pending"] is True, evicted
        a = connect(b.admin, timeout=15)
        try:
            a.sendall(b"".join(f"POST {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n{last}\r\n".encode() for p, last in (
                (f"/pause?upstream={o.hostport}&drain=10s", ""),
                (f"/evict?upstream={o.hostport}&forget=true", ""),
                (f"/pause?upstream={o.hostport}", "Connection: close\r\n"))))
            time.sleep(0.3)  # not a timing assertion: lets the drain command start waiting for the tunnel
            tunnel.close()
            answers, how = read_to_end(a, timeout=15)
        finally:
            a.close()
    finally:
        tunnel.close()
    assert how == "fin", (how, answers)
    assert answers.count(b"HTTP/1.1 200") == 3, answers
    assert answers.rstrip().endswith(b'"state":"paused","mode":"hold","epoch":1,"closed_idle":0,"in_flight":0}'), answers
    r = admin(b.admin, "GET", f"/stats?upstream={o.hostport}")
    assert r.status == 200, r.text
    assert r.json()["upstreams"][0]["state"] == "paused", r.text
