import threading, time, socket, requests
from berthkit import keepalive_loop, upstream_stats, stats, admin, RawOrigin
from e2e_helpers import send

def mk(delay=0.0):
    got, lock = [], threading.Lock()
    def respond(conn, msg):
        with lock: got.append(msg.target)
        if "slow" in msg.target: time.sleep(delay or 0.5)
        conn.respond(200, msg.body or b"")
    return got, respond

def consistent(b):
    t = stats(b)["totals"]
    for u in stats(b)["upstreams"] + [t]:
        assert u["open"] == u["idle"] + u["busy"] + u["connecting"], u
        assert min(u[k] for k in ("open","idle","busy","connecting","pending")) >= 0, u
    return t

def test_waiter_dead(berth, raw_origin, vanish):
    got, respond = mk()
    b = berth("--socket-timeout", "3s", "--max-per-route", "1")
    o = raw_origin(keepalive_loop(respond))
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"w").status == 200
    vanish(o.port)
    res = {}
    ts = [threading.Thread(target=lambda n=n: res.__setitem__(n, send(b.proxy, o.hostport, method="POST", path=f"/p{n}", body=b"x"))) for n in range(3)]
    for t in ts: t.start(); time.sleep(0.02)
    for t in ts: t.join(15)
    print(res, got, upstream_stats(b, o.hostport)["replays"], upstream_stats(b, o.hostport)["failures"])
    for n in range(3):
        assert got.count(f"/p{n}") <= 1
        if res[n].status == 200: assert got.count(f"/p{n}") == 1
    time.sleep(0.5); print(consistent(b))

def test_forget_during_deadpeer(berth, raw_origin, vanish):
    got, respond = mk()
    b = berth("--socket-timeout", "3s")
    o = raw_origin(keepalive_loop(respond))
    assert send(b.proxy, o.hostport, method="POST", path="/warm", body=b"w").status == 200
    vanish(o.port)
    res = {}
    t = threading.Thread(target=lambda: res.__setitem__(0, send(b.proxy, o.hostport, method="POST", path="/p", body=b"x")))
    t.start(); time.sleep(0.1)
    a = admin(b, "POST", f"/evict?upstream={o.hostport}&forget=true"); print(a.status, a.body)
    t.join(10)
    print(res, got)
    assert got.count("/p") == 1 and res[0].status == 200
    time.sleep(0.3); print(consistent(b), stats(b)["upstreams"])

def test_pause_restart_resume(berth):
    b = berth("--socket-timeout", "3s")
    got1, r1 = mk(); o1 = RawOrigin(keepalive_loop(r1)); port = o1.port
    try:
        assert send(b.proxy, o1.hostport, method="POST", path="/a", body=b"a").status == 200
        res = {}
        t = threading.Thread(target=lambda: res.__setitem__(0, send(b.proxy, o1.hostport, method="POST", path="/slow", body=b"s")))
        t.start(); time.sleep(0.1)
        print(admin(b, "POST", f"/pause?upstream={o1.hostport}").body)
        o1.close()
    finally:
        o1.close()
    # new process same port
    got2, r2 = mk()
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", port)); l.close()
    o2 = RawOrigin.__new__(RawOrigin)
    # simple: reuse RawOrigin with fixed port
    import berthkit.raw_origin as ro
    class Fixed(RawOrigin):
        def __init__(s, h):
            orig = socket.socket.bind
            def bind(self_, addr): return orig(self_, ("127.0.0.1", port))
            socket.socket.bind = bind
            try: super().__init__(h)
            finally: socket.socket.bind = orig
    o2 = Fixed(keepalive_loop(r2))
    try:
        res2 = {}
        t2 = threading.Thread(target=lambda: res2.__setitem__(0, send(b.proxy, o2.hostport, method="POST", path="/held", body=b"h")))
        t2.start(); time.sleep(0.2)
        print(admin(b, "POST", f"/resume?upstream={o2.hostport}").body)
        t.join(10); t2.join(10)
        print(res, res2, got1, got2)
        assert res2[0].status == 200 and got2.count("/held") == 1
        time.sleep(0.3); print(consistent(b))
    finally:
        o2.close()
