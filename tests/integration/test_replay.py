"""replay: unread (issue 13): a request a reused connection never read goes out once more, on a fresh connection, body
included; never after a response byte, never twice, never from a fresh connection, never without its whole body."""
import subprocess
import threading
import time

import pytest

from berthkit import BERTH_BIN, RawClient, get_req, raw_request, upstream_stats, wait_upstream

BODY = b'{"activation": "a-1", "value": 42}'


def stale_origin(raw_origin, unread_on=2, partial=False):
    """Each connection answers until its request number `unread_on`, which it reads whole and then closes without a
    response byte (the keep-alive race: the server closed just as berth wrote). With `partial`, it sends the first
    bytes of a status line before closing instead."""
    def handler(conn):
        n = 0
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            n += 1
            if n == unread_on:
                if partial:
                    conn.sendall(b"HTTP/1.1 20")
                return
            conn.respond(200, f"served {msg.method} {msg.target} {msg.body.decode()} on request {n}".encode())

    return raw_origin(handler)


def prime(b, o):
    """One answered request, so the next one goes out on a reused, idle connection."""
    r = raw_request(b.proxy, get_req(o.hostport, "/prime"))
    assert r.status == 200, r
    wait_upstream(b, o.hostport, lambda u: u["idle"] == 1, what="primed connection idle")
    time.sleep(0.05)


def post(b, o, body=BODY, path="/run"):
    return raw_request(b.proxy, get_req(o.hostport, path, method="POST", body=body), method="POST")


def runs(o, path="/run"):
    return [m for _, m in o.requests if m.target == path]


def test_unread_replays_a_post_with_its_body_on_a_fresh_connection(berth, raw_origin):
    o = stale_origin(raw_origin)
    b = berth("--replay", "unread", "--idle-timeout", "30s")
    prime(b, o)
    r = post(b, o)
    assert r.status == 200, r
    assert r.body == b"served POST /run " + BODY + b" on request 1", "the replay went out on a new connection, body whole"
    assert len(runs(o)) == 2 and all(m.body == BODY for m in runs(o))
    up = upstream_stats(b, o.hostport)
    assert up["replays"] == {"idempotent": 0, "idempotency-key": 0, "unread": 1, "dead-peer": 0}, up
    assert up["retries"] == 1 and up["connections"]["opened"] == 2, up


def test_the_default_policy_does_not_replay_a_post(berth, raw_origin):
    o = stale_origin(raw_origin)
    b = berth("--idle-timeout", "30s")
    prime(b, o)
    r = post(b, o)
    assert r.status == 502 and r.header("Berth-Error") == "upstream-reset", r
    assert len(runs(o)) == 1
    assert upstream_stats(b, o.hostport)["replays"]["unread"] == 0


def test_a_destination_can_choose_unread_on_its_own(berth, raw_origin, tmp_path):
    o = stale_origin(raw_origin)
    cfg = tmp_path / "berth.yaml"
    cfg.write_text(f"idle-timeout: 30s\ndestinations:\n  - match: \"{o.hostport}\"\n    replay: unread\n")
    b = berth("--config", str(cfg))
    prime(b, o)
    assert post(b, o).status == 200
    assert upstream_stats(b, o.hostport)["replays"]["unread"] == 1


def test_never_after_a_response_byte(berth, raw_origin):
    o = stale_origin(raw_origin, partial=True)
    b = berth("--replay", "unread", "--idle-timeout", "30s")
    prime(b, o)
    try:
        r = post(b, o)
        status = r.status
    except (AssertionError, EOFError, OSError):
        status = None  # berth may cut the caller: part of a response had arrived
    assert status in (502, None)
    assert len(runs(o)) == 1, "a request whose response had begun is never sent again"
    assert upstream_stats(b, o.hostport)["replays"]["unread"] == 0


def test_never_a_second_time(berth, raw_origin):
    # The first connection answers the prime and closes the POST unread; every later connection closes its first
    # request unread too, so the replay fails the same way and nothing may send it a third time.
    seen = {"conns": 0}
    lock = threading.Lock()

    def handler(conn):
        with lock:
            seen["conns"] += 1
            first_conn = seen["conns"] == 1
        n = 0
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            n += 1
            if not first_conn or n == 2:
                return  # read, then closed without a byte
            conn.respond(200, b"primed")

    o = raw_origin(handler)
    b = berth("--replay", "unread", "--idle-timeout", "30s")
    prime(b, o)
    r = post(b, o)
    assert r.status == 502 and r.header("Berth-Error") == "upstream-reset", r
    assert len(runs(o)) == 2, "sent once, replayed once, never a third time"
    up = upstream_stats(b, o.hostport)
    assert up["replays"]["unread"] == 1 and up["retries"] == 1, up


def test_a_request_sent_on_a_fresh_connection_is_never_replayed(berth, raw_origin):
    o = stale_origin(raw_origin, unread_on=1)
    b = berth("--replay", "unread")
    r = post(b, o)
    assert r.status == 502, r
    assert len(runs(o)) == 1
    assert upstream_stats(b, o.hostport)["replays"]["unread"] == 0


def test_a_body_over_the_replay_buffer_streams_and_is_not_replayed(berth, raw_origin):
    o = stale_origin(raw_origin)
    b = berth("--replay", "unread", "--replay-buffer", "1KiB", "--idle-timeout", "30s")
    prime(b, o)
    big = b"x" * 4096
    r = post(b, o, body=big)
    assert r.status == 502, r
    assert runs(o)[0].body == big, "the body still streamed to the upstream whole"
    up = upstream_stats(b, o.hostport)
    assert up["replay_skipped"]["body-too-large"] == 1 and up["replays"]["unread"] == 0, up


def test_the_global_cap_skips_a_copy_when_every_buffer_is_in_use(berth, raw_origin):
    hold = threading.Event()

    def slow(conn):
        msg = conn.read_request()
        if msg is not None:
            hold.wait(10)
            conn.respond(200, b"slow")

    slow_origin = raw_origin(slow)
    o = stale_origin(raw_origin)
    # One buffer in all: the slow POST holds it while the stale one needs one.
    b = berth("--replay", "unread", "--replay-buffer", "1KiB", "--replay-memory", "1KiB", "--idle-timeout", "30s")
    prime(b, o)
    result = {}
    keeper = RawClient(b.proxy)  # keeps its connection after the slow answer
    t = threading.Thread(target=lambda: result.setdefault(
        "slow", keeper.request(get_req(slow_origin.hostport, "/run", method="POST", body=BODY), method="POST")))
    t.start()
    wait_upstream(b, slow_origin.hostport, lambda u: u["busy"] == 1, what="the slow POST in flight")
    r = post(b, o)
    hold.set()
    t.join(10)
    assert r.status == 502, r
    assert result["slow"].status == 200
    up = upstream_stats(b, o.hostport)
    assert up["replay_skipped"]["buffer-full"] == 1 and up["replays"]["unread"] == 0, up
    # Each copy goes back when its exchange ends, not when its caller sends again or leaves: the next replayable
    # request finds the one buffer free although both callers above may keep their connections.
    prime(b, o)
    assert post(b, o).status == 200
    assert upstream_stats(b, o.hostport)["replays"]["unread"] == 1
    keeper.close()


@pytest.mark.parametrize("flag,value,says", [
    ("--replay", "sometimes", "replay"),
    ("--replay-buffer", "0", "out of range"),
    ("--replay-buffer", "17GiB", "out of range"),
    ("--replay-buffer", "1.5KiB", "not a size"),
    ("--replay-memory", "lots", "not a size"),
])
def test_bad_replay_settings_are_refused_with_a_clear_error(flag, value, says):
    p = subprocess.run([BERTH_BIN, "--profile", "same-region", flag, value, "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0, p
    assert flag.lstrip("-") in p.stderr and says in p.stderr, p.stderr
