"""`berth ctl` against a live berth: every subcommand, readable and --json output, tokens, addresses and errors."""
import json
import os
import socket
import threading
import time

import requests

from berthkit import stats, upstream_stats, wait_for
from ops_helpers import TOKEN, ctl, proxied


def _ok(p):
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert p.stderr == "", p.stderr
    return p.stdout


def _fails(p, status, *needles):
    assert p.returncode == status, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""
    assert p.stderr.startswith("berth ctl: ") and p.stderr.count("\n") == 1, p.stderr
    for n in needles:
        assert n in p.stderr, (n, p.stderr)
    return p.stderr


def test_pause_resume_evict_change_berth_and_say_what_happened(slow_berth, origin):
    b = slow_berth()
    up = origin.hostport
    assert proxied(b, f"http://{up}/").status_code == 200
    assert upstream_stats(b, up)["idle"] == 1

    out = _ok(ctl("pause", up, "--mode", "reject", berth=b))
    assert out == f"{up} paused (mode reject, epoch 1): 1 idle connection closed, 0 in flight\n"
    u = upstream_stats(b, up)
    assert (u["state"], u["pause_mode"], u["idle"]) == ("paused", "reject", 0)
    r = proxied(b, f"http://{up}/")
    assert r.status_code == 503 and r.headers["Berth-Error"] == "upstream-paused"

    out = _ok(ctl("pause", up, "--hold", "2s", "--drain", "1s", berth=b))
    assert out.startswith(f"{up} paused (mode hold, epoch 1)")
    assert upstream_stats(b, up)["timeouts_ms"]["hold"] == 2000.0

    out = _ok(ctl("resume", up, "--prewarm", "2", berth=b))
    assert out == f"{up} resumed (epoch 2): 0 held requests released, 2 connections prewarmed\n"
    u = wait_idle(b, up, 2)
    assert (u["state"], u["epoch"]) == ("active", 2)

    assert _ok(ctl("evict", up, "--idle-for", "1h", berth=b)) == f"0 idle connections closed ({up})\n"
    assert _ok(ctl("evict", berth=b)) == "2 idle connections closed\n"
    assert _ok(ctl("evict", up, "--forget", berth=b)) == f"0 idle connections closed ({up}); entry forgotten\n"
    assert upstream_stats(b, up) is None


def wait_idle(b, up, n):
    """The upstream's entry once it has `n` idle connections (prewarmed ones connect after /resume answers)."""
    for _ in range(100):
        u = upstream_stats(b, up)
        if u["idle"] == n:
            return u
        time.sleep(0.05)
    raise AssertionError(f"{up} never had {n} idle connections: {u}")


def test_json_prints_berths_answer_as_it_came(berth):
    b = berth()
    answer = json.loads(_ok(ctl("pause", "127.0.0.1:9", "--json", berth=b)))
    assert answer == {"upstream": "127.0.0.1:9", "state": "paused", "mode": "hold", "epoch": 1, "closed_idle": 0, "in_flight": 0}
    doc = json.loads(_ok(ctl("stats", "--json", berth=b)))
    live = stats(b)
    doc.pop("uptime_seconds"), live.pop("uptime_seconds")
    # Each admin answer is itself admin work on the loop, so the hold histograms move between the two reads.
    for d in (doc, live):
        for k in ("admin_loop_hold_ms", "admin_loop_cpu_ms"):
            assert d["totals"].pop(k)["count"] >= 1
    assert doc == live


def test_stats_table_and_detail(slow_berth, origin):
    b = slow_berth()
    up = origin.hostport
    for _ in range(3):
        assert proxied(b, f"http://{up}/").status_code == 200
    assert proxied(b, "http://127.0.0.1:1/").status_code == 502        # connect-refused
    _ok(ctl("pause", "127.0.0.1:9", "--mode", "reject", berth=b))

    out = _ok(ctl("stats", berth=b)).splitlines()
    assert out[0].startswith("berth 0.") and "profile same-region-failover" in out[0]
    assert "upstreams 3" in out[1] and "open 1/200" in out[1]
    assert "requests 4" in out[2] and "errors 1 (connect-refused 1)" in out[2]
    assert out[3] == "dead peers 0 (retried 0) · keep-alive-hint closes 0"
    header = out[5].split()
    assert header[:9] == ["UPSTREAM", "STATE", "EPOCH", "OPEN", "IDLE", "BUSY", "CONN", "PEND", "REQUESTS"]
    rows = {line.split()[0]: line.split() for line in out[6:]}
    assert list(rows) == sorted(["127.0.0.1:1", "127.0.0.1:9", up]), "sorted by name, as /stats"
    assert rows[up][1:9] == ["active", "1", "1", "1", "0", "0", "0", "3"]
    assert rows["127.0.0.1:9"][1] == "paused/reject"
    assert rows["127.0.0.1:1"][9] == "1" and rows["127.0.0.1:1"][-2:] == ["connect-refused", "1"]

    detail = _ok(ctl("stats", up, berth=b)).splitlines()
    assert detail[0] == f"{up}  active  epoch 1"
    lines = {line.split("  ")[0]: line for line in detail[1:]}
    assert "open 1  idle 1  busy 0  connecting 0  pending 0" in lines["connections"]
    assert "max-per-route 100" in lines["limits"] and "max-total 200" in lines["limits"]
    assert "requests 3" in lines["counters"] and "reused 2" in lines["counters"]
    assert lines["failures"].endswith("none") and lines["retries by reason"].endswith("none")
    assert lines["acquire wait"].endswith("(3)")
    assert lines["freezer watch"].endswith("-")


def test_stats_show_keep_alive_hint_closes_and_retries_by_reason(slow_berth, raw_origin):
    """Issue 20's events in `ctl stats`: an idle connection closed ahead of its server's `Keep-Alive: timeout=1`,
    and a request sent again after its pooled connection closed under it (the dead-peer counts sit beside them)."""
    def handler(conn):
        msg = conn.read_request()
        if msg is None:
            return
        conn.respond(200, b"ok", headers=[("Keep-Alive", "timeout=1")] if msg.target == "/hinted" else [])
        # Held open until berth closes it (ahead of the hint); after /stale the next request is read and the
        # connection closed without a byte.
        conn.read_request()

    o = raw_origin(handler)
    b = slow_berth()
    assert proxied(b, f"http://{o.hostport}/hinted").status_code == 200
    wait_for(lambda: upstream_stats(b, o.hostport)["connections"]["closed"]["keep-alive-hint"] == 1, what="hint close")
    assert proxied(b, f"http://{o.hostport}/stale").status_code == 200
    wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 1, what="connection idle")
    assert proxied(b, f"http://{o.hostport}/again").status_code == 200
    out = _ok(ctl("stats", berth=b)).splitlines()
    assert out[3] == "dead peers 0 (retried 0) · keep-alive-hint closes 1"
    lines = {line.split("  ")[0]: line for line in _ok(ctl("stats", o.hostport, berth=b)).splitlines()[1:]}
    assert lines["retries by reason"].endswith("idempotent 1")
    assert "keep-alive-hint 1" in lines["closed"]
    metrics = requests.get(f"{b.admin_url}/metrics", timeout=10).text.splitlines()
    assert 'berth_connections_closed_total{reason="keep-alive-hint"} 1' in metrics
    assert 'berth_replays_total{reason="idempotent"} 1' in metrics


def test_server_errors_end_with_its_message_and_status_1(berth):
    b = berth()
    _fails(ctl("pause", "127.0.0.1", berth=b), 1, "POST /pause: 400 upstream must be HOST:PORT")
    _fails(ctl("pause", "127.0.0.1:9", "--mode", "reject", "--hold", "1s", berth=b), 1, "400 hold= applies to mode=hold only")
    _fails(ctl("resume", "127.0.0.1:9", "--prewarm", "x", berth=b), 1, "400 prewarm must be an integer")
    _fails(ctl("evict", "--forget", berth=b), 1, "400 forget=true needs upstream=HOST:PORT")
    _fails(ctl("stats", "127.0.0.1:9", berth=b), 1, "GET /stats: 404 berth knows no upstream 127.0.0.1:9")


def test_watch_and_unwatch_reach_berth_and_its_errors_come_back(berth, tmp_path):
    b = berth()
    # A path that is no cgroup: berth's 400 and its reason come back, with a non-zero exit.
    _fails(ctl("watch", "127.0.0.1:9", "--cgroup", str(tmp_path / "nope"), berth=b), 1, "POST /watch: 400")
    # A stand-in cgroup v2 directory (what berth reads of one): the watch is made and shows in stats.
    cg = tmp_path / "fn-1"
    cg.mkdir()
    (cg / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    p = ctl("watch", "127.0.0.1:9", "--cgroup", str(cg), berth=b)
    assert p.returncode == 0, p.stderr
    shown = ctl("stats", "127.0.0.1:9", berth=b)
    assert shown.returncode == 0 and str(cg) in shown.stdout, shown.stdout
    p = ctl("unwatch", "127.0.0.1:9", berth=b)
    assert p.returncode == 0 and "no longer watched" in p.stdout, p.stdout


def test_values_reach_berth_percent_encoded(berth):
    """A value with & or + must arrive as itself, not as a second parameter or a space."""
    b = berth()
    _fails(ctl("pause", "127.0.0.1:9&mode=reject", berth=b), 1, "(got 127.0.0.1:9&mode=reject)")
    _fails(ctl("pause", "127.0.0.1:9", "--hold", "1s+1", berth=b), 1, "hold: \"1s+1\" is not a duration")


def test_token_from_flag_file_or_variable(berth, token_file, tmp_path):
    b = berth("--admin-token-file", token_file)
    _fails(ctl("stats", berth=b), 1, "GET /stats: 401 missing or wrong bearer token")
    assert _ok(ctl("stats", "--token-file", token_file, berth=b)).startswith("berth ")
    assert _ok(ctl("stats", "--admin-token-file", token_file, berth=b)).startswith("berth ")
    assert _ok(ctl("stats", berth=b, env={"BERTH_ADMIN_TOKEN_FILE": token_file})).startswith("berth ")
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    _fails(ctl("pause", "127.0.0.1:9", "--token-file", str(wrong), berth=b), 1, "401")
    assert upstream_stats(b, "127.0.0.1:9", token=TOKEN) is None
    empty = tmp_path / "empty"
    empty.write_text(" \n")
    _fails(ctl("stats", "--token-file", str(empty), berth=b), 64, f"the token file {empty} is empty")
    _fails(ctl("stats", "--token-file", str(tmp_path / "missing"), berth=b), 64, "cannot read the token file")


def test_admin_address_from_variable_and_wildcards(berth):
    b = berth()
    port = b.admin[1]
    for address in (f"127.0.0.1:{port}", f"0.0.0.0:{port}", f":{port}"):
        assert _ok(ctl("stats", env={"BERTH_ADMIN": address})).startswith("berth "), address
    # The flag beats the variable.
    assert _ok(ctl("stats", "--admin", f"127.0.0.1:{port}", env={"BERTH_ADMIN": "127.0.0.1:1"})).startswith("berth ")


def test_unreachable_or_malformed_addresses(berth):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    _fails(ctl("stats", "--admin", f"127.0.0.1:{port}"), 69, f"cannot connect to 127.0.0.1:{port}: Connection refused")
    _fails(ctl("stats", "--admin", "unix:/nonexistent/berth.sock"), 69, "cannot connect to unix:/nonexistent/berth.sock")
    for bad in ("berth", "127.0.0.1:0", "127.0.0.1:99999", "[::1", "unix:"):
        _fails(ctl("stats", "--admin", bad), 64, "admin")


class UnixRelay(threading.Thread):
    """A Unix socket that relays each connection to berth's TCP admin listener (berth does not listen on a Unix
    socket yet), recording the bytes clients send."""

    def __init__(self, path, target):
        super().__init__(daemon=True)
        self.target, self.seen = target, []
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(path)
        self.server.listen(8)
        self.start()

    def run(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(65536)
            self.seen.append(request)
            upstream.sendall(request)
            while data := upstream.recv(65536):
                client.sendall(data)
            client.close()
            upstream.close()


def test_unix_socket_address(berth, tmp_path):
    b = berth()
    path = str(tmp_path / "admin.sock")
    relay = UnixRelay(path, b.admin)
    out = _ok(ctl("stats", "--admin", f"unix:{path}"))
    assert out.startswith("berth ")
    assert _ok(ctl("pause", "127.0.0.1:9", "--admin", f"unix:{path}")).startswith("127.0.0.1:9 paused")
    assert relay.seen[1].startswith(b"POST /pause?upstream=127.0.0.1:9 HTTP/1.1\r\nHost: localhost\r\n")
    relay.server.close()
    os.unlink(path)


def test_help_names_every_subcommand():
    out = _ok(ctl("--help"))
    for sub in ("pause", "resume", "evict", "watch", "unwatch", "stats", "top"):
        assert f"\n  {sub} " in out, sub
    assert "BERTH_ADMIN" in out and "BERTH_ADMIN_TOKEN_FILE" in out
