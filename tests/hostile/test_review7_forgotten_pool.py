"""A pool dropped under a request that still uses it (review7).

`/evict?upstream=U&forget=true` on an upstream with connections only marks its pool to go when its last connection
closes (and `idle_for=` leaves young idle connections open, so a marked pool may still hold idle ones). Two closes
made by the request itself could be that last one, and the request then asked the dropped pool's ledger slot for a
connection: a force unwrap of the empty slot, SIGILL, the whole proxy gone.

- A request naming a new `Berth-Generation` moves the pool to a new epoch, which closes its idle connections: the
  marked pool went with the last of them, then the request checked out from it.
- A GET on a reused connection the upstream closes without answering is retried on a fresh one: the failed
  connection's close dropped the marked pool, then the retry checked out from it.

Each is a caller's request after an orchestrator's routine forget (a container being retired). Expected: no crash;
the request is served (a new pool is made for it), or answered by berth."""
import socket
import threading
import time

from berthkit import RawClient, admin_json, get_req, wait_for

from hostile_wire import read_response, status_of


def _upstream(b, hp):
    return next((u for u in admin_json(b, "GET", "/stats")["upstreams"] if u["upstream"] == hp), None)


def _alive(b):
    err = b.stderr_text()
    return b.proc.poll() is None, f"berth died: exit {b.proc.returncode}\n{err[err.find('crashed'):][:1500]}"


def test_a_new_generation_on_a_pool_marked_to_forget(berth, raw_origin):
    def handler(conn):
        while (msg := conn.read_request()) is not None:
            conn.respond(200, b"ok:" + msg.target.encode())

    o = raw_origin(handler)
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1")
    assert RawClient(b.proxy).request(get_req(hp, "/warm"), "GET").status == 200
    wait_for(lambda: (_upstream(b, hp) or {}).get("idle") == 1, timeout=10, what="the idle connection")
    r = admin_json(b, "POST", f"/evict?upstream={hp}&idle_for=1h&forget=true")
    assert r["forget_pending"] is True and r["closed"] == 0, r
    try:
        resp = RawClient(b.proxy).request(get_req(hp, "/gen", extra=b"Berth-Generation: container-2\r\n"), "GET")
    except Exception as e:  # noqa: BLE001  berth died under the request
        resp = e
    time.sleep(0.2)
    ok, why = _alive(b)
    assert ok, why
    assert getattr(resp, "status", None) == 200 and resp.body == b"ok:/gen", resp


def test_a_retry_on_a_pool_marked_to_forget(berth, raw_origin):
    second_read = threading.Event()
    go_close = threading.Event()

    def handler(conn):
        # The first request is answered and the connection kept; the second is read, and the connection closed
        # without an answer once the test says so (a container going away): berth retries the GET.
        first = True
        while (msg := conn.read_request()) is not None:
            if first or msg.target != "/second":
                first = False
                conn.respond(200, b"ok:" + msg.target.encode())
                continue
            second_read.set()
            go_close.wait(10)
            return

    o = raw_origin(handler)
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1", "--socket-timeout", "30s")
    client = RawClient(b.proxy)
    assert client.request(get_req(hp, "/first"), "GET").status == 200
    wait_for(lambda: (_upstream(b, hp) or {}).get("idle") == 1, timeout=10, what="the idle connection")
    s = socket.create_connection(b.proxy)
    s.sendall(get_req(hp, "/second"))
    assert second_read.wait(10), "the origin never saw the second request"
    r = admin_json(b, "POST", f"/evict?upstream={hp}&forget=true")
    assert r["forget_pending"] is True, r
    go_close.set()
    s.settimeout(10)
    try:
        resp = read_response(s)
    except Exception as e:  # noqa: BLE001
        resp = e
    time.sleep(0.2)
    ok, why = _alive(b)
    assert ok, why
    # The retry went out on a fresh connection, which the origin answers.
    assert isinstance(resp, tuple) and status_of(resp[0]) == 200 and resp[1] == b"ok:/second", resp
    s.close()
