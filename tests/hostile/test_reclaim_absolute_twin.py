"""`fn.` and `fn` are two upstreams (an absolute name keeps its dot, so search domains never apply, and the two
spellings have separate pools), yet with /etc/hosts both reach the same container. An orchestrator that pauses or
evicts `fn:P` before freezing it must not leave `fn.:P`'s pool usable: the admin commands that name an endpoint
act on the pools of both spellings. `localhost` and `localhost.` both reach 127.0.0.1 here."""
import threading

from berthkit import admin_json, upstream_stats
from hostile_wire import connect, read_response, status_of


def _get(b, host, port, out=None, timeout=5):
    c = connect(b.proxy, timeout=timeout)
    try:
        c.sendall(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        raw = read_response(c)[0]
    finally:
        c.close()
    if out is not None:
        out.append(raw)
    return raw


def test_a_pause_of_one_spelling_holds_requests_to_the_other(berth, origin):
    b = berth("--acquire-timeout", "30s")
    assert status_of(_get(b, "localhost", origin.port)) == 200
    admin_json(b, "POST", f"/pause?upstream=localhost:{origin.port}")
    got = []
    t = threading.Thread(target=_get, args=(b, "localhost.", origin.port, got, 10), daemon=True)
    t.start()
    t.join(1.0)
    # Held by the pause: no answer while `localhost` is paused.
    assert got == [], got
    admin_json(b, "POST", f"/resume?upstream=localhost:{origin.port}")
    t.join(10)
    assert got and status_of(got[0]) == 200, got


def test_an_evict_of_one_spelling_closes_the_other_spellings_idle_connections(berth, origin):
    b = berth()
    assert status_of(_get(b, "localhost.", origin.port)) == 200
    before = upstream_stats(b, f"localhost.:{origin.port}")
    assert before and before["idle"] == 1, before
    answer = admin_json(b, "POST", f"/evict?upstream=localhost:{origin.port}")
    assert answer.get("closed") == 1, answer
    after = upstream_stats(b, f"localhost.:{origin.port}")
    assert after["idle"] == 0, after
