"""Peers that vanish silently (issue 20 items 1, 2): an nftables rule on loopback drops an origin's established
connections (no ACK, no RST) while new connections work; serial POSTs through berth must not fail."""
import json
import time

import pytest
import requests

from berthkit import keepalive_loop, upstream_stats, wait_for
from e2e_helpers import FIGURES, send


def _respond(conn, msg):
    body = msg.body or b""
    if "slow" in msg.target:
        time.sleep(1.5)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def _closed(b, hostport, reason):
    up = upstream_stats(b, hostport)
    return up["connections"]["closed"][reason]


@pytest.mark.parametrize("flags", [[], ["--replay", "unread"]], ids=["defaults", "replay-unread"])
def test_serial_posts_survive_a_silent_vanish(berth, raw_origin, vanish, flags):
    """Bursts of serial POSTs, the origin's established connections silently dropped between bursts: with the
    defaults no activation fails, and the first one after each vanish takes about the dead-peer timeout plus one
    fresh exchange instead of the socket timeout."""
    b = berth("--socket-timeout", "2s", *flags)
    origin = raw_origin(keepalive_loop(_respond))
    bursts, per_burst, failed, firsts = 6, 10, [], []
    for burst in range(bursts):
        for i in range(per_burst):
            r = send(b.proxy, origin.hostport, method="POST", path=f"/act/{burst}/{i}", body=b"payload-%d" % i)
            if (r.status, r.body) != (200, b"payload-%d" % i):
                failed.append((burst, i, r))
            if i == 0 and burst > 0:
                firsts.append(r.elapsed)
        if burst < bursts - 1:
            vanish(origin.port)
    assert not failed, failed
    up = upstream_stats(b, origin.hostport)
    assert up["replays"]["dead-peer"] == bursts - 1, up
    assert up["connections"]["closed"]["dead-peer"] == bursts - 1, up
    # Not a timing goal: the proof that the socket timeout (2 s) was not waited out.
    assert max(firsts) < 2.0, firsts
    FIGURES.put("dead_peer_vanish_" + ("-".join(flags) or "defaults"), {"bursts": bursts, "posts": bursts * per_burst, "failed": len(failed),
                                     "first_after_vanish_s": [round(t, 3) for t in firsts]})


def test_the_access_log_tells_a_dead_peer_retry(berth, raw_origin, vanish):
    """The access line of the first POST after a vanish (issue 20 item 6): sent first on the pooled connection, whose
    age and idle time it gives, then again for `dead-peer` on a new one; its total holds the dead-peer timeout."""
    b = berth("--socket-timeout", "2s", "--access-log", "--log-format", "json")
    origin = raw_origin(keepalive_loop(_respond))
    assert send(b.proxy, origin.hostport, method="POST", body=b"one").status == 200
    vanish(origin.port)
    assert send(b.proxy, origin.hostport, method="POST", body=b"two").status == 200

    def lines():
        return [d for d in map(json.loads, b.stderr_text().splitlines()) if d["msg"] == "access"]

    wait_for(lambda: len(lines()) == 2, what="two access lines")
    first, retried = lines()
    assert first["attempts"] == ["first"] and first["reused"] is False
    assert retried["attempts"] == ["first", "dead-peer"] and retried["reused"] is True, retried
    assert retried["status"] == 200 and retried["berth_error"] is None and retried["bytes_in"] == 3
    assert retried["conn_idle_ms"] >= 0 and retried["conn_age_ms"] >= retried["conn_idle_ms"], retried
    assert retried["connect_ms"] > 0 and retried["total_ms"] >= 250, "the dead-peer timeout is inside the total"
    # The same event in /metrics' totals: the close and the retry, by reason.
    metrics = requests.get(f"{b.admin_url}/metrics", timeout=10).text.splitlines()
    assert 'berth_connections_closed_total{reason="dead-peer"} 1' in metrics
    assert 'berth_replays_total{reason="dead-peer"} 1' in metrics


def test_dead_peer_retry_off_answers_502_at_once(berth, raw_origin, vanish):
    """--dead-peer-retry false: the dead connection is still found by acknowledgement and reset, and the request
    is answered 502 dead-peer rather than after the socket timeout."""
    b = berth("--socket-timeout", "5s", "--no-dead-peer-retry")
    origin = raw_origin(keepalive_loop(_respond))
    assert send(b.proxy, origin.hostport, method="POST", body=b"one").status == 200
    vanish(origin.port)
    r = send(b.proxy, origin.hostport, method="POST", body=b"two", expect="dead-peer")
    assert (r.status, r.cause) == (502, "dead-peer"), r
    assert r.elapsed < 5.0, r
    assert _closed(b, origin.hostport, "dead-peer") == 1


def test_body_larger_than_the_replay_buffer_gets_502(berth, raw_origin, vanish):
    """A body past --replay-buffer is not kept, so it cannot go again: 502 dead-peer, counted as a replay skip."""
    b = berth("--socket-timeout", "5s", "--replay-buffer", "1KiB")
    origin = raw_origin(keepalive_loop(_respond))
    assert send(b.proxy, origin.hostport, method="POST", body=b"x").status == 200
    vanish(origin.port)
    r = send(b.proxy, origin.hostport, method="POST", body=b"y" * 4096, expect="dead-peer")
    assert (r.status, r.cause) == (502, "dead-peer"), r
    assert b"replay buffer" in r.body, r
    up = upstream_stats(b, origin.hostport)
    assert up["replay_skipped"]["body-too-large"] == 1, up
    # The next request finds no dead connection left: it goes out on a fresh one.
    assert send(b.proxy, origin.hostport, method="POST", body=b"z").status == 200


def test_a_slow_server_that_acknowledges_still_gets_504(berth, raw_origin):
    """A live server whose kernel acknowledges the request at once but whose answer comes after the socket
    timeout keeps today's rule: 504 read-timeout, no dead peer, no retry."""
    b = berth("--socket-timeout", "1s")
    origin = raw_origin(keepalive_loop(_respond))
    assert send(b.proxy, origin.hostport, method="POST", body=b"warm").status == 200
    r = send(b.proxy, origin.hostport, method="POST", path="/slow", body=b"late", expect="read-timeout")
    assert (r.status, r.cause) == (504, "read-timeout"), r
    up = upstream_stats(b, origin.hostport)
    assert up["connections"]["closed"]["dead-peer"] == 0, up
    assert up["retries"] == 0, up


def test_keepalive_probes_close_an_idle_connection_whose_peer_vanished(berth, raw_origin, vanish):
    """An idle pooled connection whose peer vanishes is found by TCP keepalive (5 s idle, 2 s interval, 3 probes:
    about 11 s) and closed by the idle watch before any request could be written to it."""
    b = berth("--socket-timeout", "2s", "--idle-timeout", "60s")
    origin = raw_origin(keepalive_loop(_respond))
    assert send(b.proxy, origin.hostport, method="POST", body=b"warm").status == 200
    assert upstream_stats(b, origin.hostport)["idle"] == 1
    vanish(origin.port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and upstream_stats(b, origin.hostport)["idle"] != 0:
        time.sleep(0.5)
    up = upstream_stats(b, origin.hostport)
    assert up["idle"] == 0 and up["connections"]["closed"]["peer-closed-idle"] == 1, up
    # Nothing was left for a request to find: the next one goes out on a fresh connection, no dead peer to retry.
    assert send(b.proxy, origin.hostport, method="POST", body=b"after").status == 200
    assert upstream_stats(b, origin.hostport)["replays"]["dead-peer"] == 0
