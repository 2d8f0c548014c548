"""A pending forget (`/evict?forget=true` on an upstream with connections or waiting requests) completes however the
entry empties: also when its last connect fails or its last waiting request leaves. Before, only a connection's
close completed it, so such an entry stayed until the 10-minute sweep, and a paused one (which the sweep skips)
stayed paused for good: the forget the operator was told was pending never happened."""
import socket
import threading
import time

from berthkit import RawClient, admin_json, get_req, wait_for


def _upstream(b, hp):
    return next((u for u in admin_json(b, "GET", "/stats")["upstreams"] if u["upstream"] == hp), None)


def test_a_forget_pending_on_a_held_request_completes_when_it_leaves(berth, raw_origin):
    o = raw_origin(lambda conn: [conn.respond(200, b"ok") for _ in iter(conn.read_request, None)])
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1")
    admin_json(b, "POST", f"/pause?upstream={hp}")
    held = socket.create_connection(b.proxy)
    try:
        held.sendall(get_req(hp, "/held"))
        wait_for(lambda: (_upstream(b, hp) or {}).get("pending") == 1, timeout=5, what="the held request")
        r = admin_json(b, "POST", f"/evict?upstream={hp}&forget=true")
        assert r["forget_pending"] is True, r
    finally:
        held.close()  # the one waiting request leaves: the entry is empty
    wait_for(lambda: _upstream(b, hp) is None, timeout=5, what="the entry forgotten once its waiter left")
    # Its pause went with it: a request goes through at once.
    assert RawClient(b.proxy, timeout=5).request(get_req(hp, "/after"), "GET").status == 200


def test_a_forget_pending_on_a_connect_completes_when_the_connect_fails(berth):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    hp = f"127.0.0.1:{lsock.getsockname()[1]}"
    fillers = []
    for _ in range(4):  # the accept queue full: SYNs are dropped and a connect waits for its timeout
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(lsock.getsockname())
        fillers.append(s)
    time.sleep(0.1)
    b = berth("--workers", "1", "--connect-timeout", "1s")
    answers = []
    t = threading.Thread(target=lambda: answers.append(RawClient(b.proxy, timeout=10).request(get_req(hp, "/"), "GET")))
    t.start()
    try:
        wait_for(lambda: (_upstream(b, hp) or {}).get("connecting") == 1, timeout=5, what="the connect")
        r = admin_json(b, "POST", f"/evict?upstream={hp}&forget=true")
        assert r["forget_pending"] is True, r
        t.join(10)
        assert answers and answers[0].status == 504, answers
        wait_for(lambda: _upstream(b, hp) is None, timeout=5, what="the entry forgotten once its connect failed")
    finally:
        t.join(10)
        for s in fillers:
            s.close()
        lsock.close()
