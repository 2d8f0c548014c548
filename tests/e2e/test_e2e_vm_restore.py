"""The VM restore watch (issue 20 item 5): a synthetic vmgenid uevent, written as root to the device's sysfs `uevent`
file, makes berth close every idle pooled connection in every worker, move every epoch on and count the restore.

The uevent is broadcast to the whole machine: any other berth running here with the watch on drops its idle
connections too, so each test writes as few as it needs."""
import os
import signal
import subprocess
import threading
import time

from berthkit import admin, stats, upstream_stats, wait_for
from e2e_helpers import send


class _Origin:
    """An origin answering each request with its connection's client port, recording the ports it saw close."""

    def __init__(self, raw_origin, delay=0.0):
        from berthkit import keepalive_loop
        self.closed = set()
        self.lock = threading.Lock()

        def respond(conn, msg):
            if delay:
                time.sleep(delay)
            body = str(conn.peer[1]).encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

        serve = keepalive_loop(respond)

        def handler(conn):
            try:
                serve(conn)
            finally:
                with self.lock:
                    self.closed.add(conn.peer[1])

        self.raw = raw_origin(handler)
        self.hostport = self.raw.hostport


def _pool(b, origin, n):
    """Opens `n` pooled connections at once (n overlapping requests) and returns their client ports."""
    results = [None] * n

    def one(i):
        results[i] = send(b.proxy, origin.hostport, path=f"/warm/{i}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert all(r is not None and r.status == 200 for r in results), results
    return {int(r.body) for r in results}


def _totals(b):
    return stats(b)["totals"]


def _watching(start, raw_origin):
    """A berth whose watch is on (its start-up line says so) and an origin it has one pooled connection to."""
    b = start()
    b.wait_log("VM restore watch")
    origin = _Origin(raw_origin)
    assert send(b.proxy, origin.hostport).status == 200
    return b, origin


def test_a_restore_closes_every_idle_connection_and_the_next_request_connects_afresh(berth, raw_origin, restore):
    """Idle connections in both workers close (the origin sees each end), vm_restores counts one in /stats,
    /metrics and `berth ctl stats`, and the next request goes out on a fresh connection."""
    b = berth("--workers", "2", "--max-per-route", "16")
    b.wait_log("VM restore watch")
    assert "sources=vmgenid" in b.stderr_text(), b.stderr_text()
    origin = _Origin(raw_origin, delay=0.3)
    ports = _pool(b, origin, 8)
    wait_for(lambda: _totals(b)["idle"] == len(ports), timeout=5)
    assert _totals(b)["vm_restores"] == 0
    reused_before = _totals(b)["connections"]["reused"]

    restore()

    wait_for(lambda: ports <= origin.closed, timeout=5)
    t = _totals(b)
    assert t["vm_restores"] == 1, t
    assert t["idle"] == 0, t
    assert t["connections"]["closed"]["stale-epoch"] == len(ports), t
    assert upstream_stats(b, origin.hostport)["epoch"] >= 2
    status, text = _metrics(b)
    assert status == 200 and "\nberth_vm_restores_total 1\n" in text, text
    out = subprocess.run([berth.binary, "ctl", "stats"], capture_output=True, text=True, timeout=10,
                         env={**os.environ, "BERTH_ADMIN": f"{b.admin[0]}:{b.admin[1]}"})
    assert out.returncode == 0 and "vm restores 1" in out.stdout, out
    b.wait_log("VM restored")

    r = send(b.proxy, origin.hostport, path="/after")
    assert r.status == 200 and int(r.body) not in ports, r
    assert _totals(b)["connections"]["reused"] == reused_before


def test_a_burst_of_restore_signals_coalesces(berth, raw_origin, restore):
    """Twenty signals at once: one restore at once and one more at the end of the spacing, not twenty."""
    b, _ = _watching(berth, raw_origin)
    for _ in range(20):
        restore()
    wait_for(lambda: _totals(b)["vm_restores"] == 2, timeout=5)
    time.sleep(1.5)  # the gate's spacing (1 s) and then some: nothing more comes
    assert _totals(b)["vm_restores"] == 2


def test_the_watch_can_be_turned_off(berth, raw_origin, restore):
    """--no-vm-restore-watch: the signal changes nothing; the idle connection is reused."""
    b = berth("--no-vm-restore-watch")
    origin = _Origin(raw_origin)
    first = send(b.proxy, origin.hostport)
    assert first.status == 200
    wait_for(lambda: _totals(b)["idle"] == 1, timeout=5)
    restore()
    # The watching berth of the previous tests would have acted within milliseconds; this one must not at all.
    time.sleep(0.5)
    assert _totals(b)["vm_restores"] == 0
    second = send(b.proxy, origin.hostport)
    assert second.status == 200 and second.body == first.body, (first, second)
    assert "VM restore watch" not in b.stderr_text()


def test_a_reload_turns_the_watch_on_and_off(berth, raw_origin, restore, tmp_path):
    """vm-restore-watch in the file, flipped by SIGHUP: on, the next signal is a restore; off again, it is not."""
    cfg = tmp_path / "berth.yaml"
    cfg.write_text("profile: same-region-failover\nvm-restore-watch: false\n")
    b = berth("--config", str(cfg), profile=None)
    origin = _Origin(raw_origin)
    assert send(b.proxy, origin.hostport).status == 200
    cfg.write_text("profile: same-region-failover\nvm-restore-watch: true\n")
    b.proc.send_signal(signal.SIGHUP)
    b.wait_log("VM restore watch")
    restore()
    wait_for(lambda: _totals(b)["vm_restores"] == 1, timeout=5)
    cfg.write_text("profile: same-region-failover\nvm-restore-watch: false\n")
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: b.stderr_text().count("configuration reloaded") == 2, timeout=5)
    time.sleep(1.5)  # past the gate's spacing, so a watch still on would act at once
    restore()
    time.sleep(0.5)
    assert _totals(b)["vm_restores"] == 1


def test_sigterm_during_a_burst_exits_cleanly(start_berth, raw_origin, restore):
    """SIGTERM while restore signals are still arriving: berth drains and exits 0."""
    b, _ = _watching(start_berth, raw_origin)
    for _ in range(5):
        restore()
    b.proc.send_signal(signal.SIGTERM)
    for _ in range(5):
        restore()
    assert b.proc.wait(timeout=15) == 0, b.stderr_text()


def _metrics(b):
    r = admin(b, "GET", "/metrics", timeout=5)
    return r.status, r.text
