"""A `/pause?drain=` answered when the last busy request ends, with admin commands pipelined behind it.

The drain is answered once the pool's last busy connection is released. That answer, and the commands pipelined
behind it on the same admin connection (which may evict, forget and pause pools), used to run inside the release, on
the releasing proxy session's stack; they now run on the loop's next turn (docs/architecture.md, "Where hand-offs are
posted"). These tests guard what the admin client sees: every answer, in order, with the same content, and nothing
run for an admin connection that went away before its answer. The nesting itself is shown by
Tests/BerthCoreTests/DrainNoticeTests.swift."""
import json
import socket
import struct
import threading
import time

from berthkit import admin_json, get_req, wait_for
from hostile_wire import connect, read_to_end


def _upstream(b, hp):
    return next((u for u in admin_json(b, "GET", "/stats")["upstreams"] if u["upstream"] == hp), None)


def _held_origin(raw_origin):
    """An origin that answers /slow once `go` is set, anything else at once."""
    go = threading.Event()

    def handler(conn):
        while (msg := conn.read_request()) is not None:
            if msg.target == "/slow":
                go.wait(15)
            conn.respond(200, b"ok" + msg.target.encode())

    return raw_origin(handler), go


def _post(path, last=False):
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n{'Connection: close' + chr(13) + chr(10) if last else ''}\r\n".encode()


def _bodies(raw):
    """The JSON bodies of the Content-Length answers in `raw`, in order, with their status codes."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:"))
        out.append((int(lines[0].split(" ")[1]), json.loads(rest[:length])))
        raw = rest[length:]
    return out


def test_pipelined_commands_behind_a_drain_are_answered_in_order_after_the_release(berth, raw_origin):
    o, go = _held_origin(raw_origin)
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1", "--acquire-timeout", "5s")
    caller = socket.create_connection(b.proxy, timeout=10)
    a = connect(b.admin, timeout=15)
    try:
        caller.sendall(get_req(hp, "/slow"))
        wait_for(lambda: (_upstream(b, hp) or {}).get("busy") == 1, timeout=10, what="the busy connection")
        a.sendall(_post(f"/pause?upstream={hp}&drain=10s") + _post(f"/evict?upstream={hp}&forget=true")
                  + _post(f"/pause?upstream={hp}")
                  + f"GET /stats?upstream={hp} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        time.sleep(0.3)  # not a timing assertion: lets the drain start waiting for the busy request
        go.set()
        assert caller.recv(100).startswith(b"HTTP/1.1 200")
        answers, how = read_to_end(a, timeout=15)
    finally:
        a.close()
    assert how == "fin", (how, answers)
    got = _bodies(answers)
    assert [s for s, _ in got] == [200, 200, 200, 200], got
    assert got[0][1] == {"upstream": hp, "state": "paused", "mode": "hold", "epoch": 1, "closed_idle": 0, "in_flight": 0}, got
    assert got[1][1] == {"closed": 0, "upstream": hp, "forgotten": True, "forget_pending": False}, got
    assert got[2][1]["state"] == "paused" and got[2][1]["in_flight"] == 0, got
    assert got[3][1]["upstreams"][0]["state"] == "paused", got
    # The caller's next request meets the new pause: held, then sent once resumed.
    caller.sendall(get_req(hp, "/after"))
    wait_for(lambda: (_upstream(b, hp) or {}).get("pending") == 1, timeout=5, what="the request held by the pause")
    admin_json(b, "POST", f"/resume?upstream={hp}")
    assert caller.recv(100).startswith(b"HTTP/1.1 200")
    caller.close()


def test_an_admin_connection_gone_before_its_drain_answer_runs_nothing(berth, raw_origin):
    o, go = _held_origin(raw_origin)
    hp = f"127.0.0.1:{o.port}"
    b = berth("--workers", "1", "--acquire-timeout", "5s")
    caller = socket.create_connection(b.proxy, timeout=10)
    try:
        caller.sendall(get_req(hp, "/slow"))
        wait_for(lambda: (_upstream(b, hp) or {}).get("busy") == 1, timeout=10, what="the busy connection")
        a = connect(b.admin, timeout=15)
        a.sendall(_post(f"/pause?upstream={hp}&drain=10s") + _post(f"/evict?upstream={hp}&forget=true", last=True))
        wait_for(lambda: (_upstream(b, hp) or {}).get("state") == "paused", timeout=5, what="the pause")
        a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        a.close()  # a reset: berth drops the connection with its pipelined /evict unread
        time.sleep(0.2)  # not a timing assertion: lets berth read the reset before the release
        go.set()
        assert caller.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        caller.close()
    wait_for(lambda: (_upstream(b, hp) or {}).get("busy") == 0, timeout=5, what="the release")
    up = _upstream(b, hp)
    assert up is not None and up["state"] == "paused", up
    assert admin_json(b, "GET", "/healthz") == {"status": "ok"}
