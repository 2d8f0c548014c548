"""VM restores racing requests and commands (h-vanish): a restore while a request is in flight, while the upstream is
paused, twice back to back; no connection from before a restore may be pooled after it.

The uevent reaches every berth on the machine: each test writes as few as it needs, and counts at least (another
suite's restore may land inside a test)."""
import time

from berthkit import admin, stats, upstream_stats, wait_for
from berthkit.vm_restore import vmgenid_uevent_file
from e2e_helpers import send, send_in_flight
from test_e2e_vm_restore import _Origin


def _restores(b):
    return stats(b)["totals"]["vm_restores"]


def _closed(b, hostport, reason):
    return upstream_stats(b, hostport)["connections"]["closed"][reason]


def test_a_request_in_flight_across_a_restore_finishes_and_its_connection_is_not_pooled(berth, raw_origin, restore):
    """A request whose origin answers 1 s after the restore: it is answered whole, and the connection it used, checked
    out before the restore and released after it, is closed (`stale-epoch`), not pooled; the next request connects
    afresh."""
    b = berth("--socket-timeout", "5s")
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin, delay=1.0)
    first = send(b.proxy, o.hostport, path="/warm")
    assert first.status == 200
    result = send_in_flight(b, o.hostport, path="/slow")
    before = _restores(b)
    restore()
    wait_for(lambda: _restores(b) > before, timeout=5, what="the restore counted")
    r = result(15)
    assert r.status == 200 and r.body == first.body, r  # the pooled connection carried it, answered whole
    wait_for(lambda: upstream_stats(b, o.hostport)["busy"] == 0, timeout=5)
    up = upstream_stats(b, o.hostport)
    assert up["idle"] == 0 and up["connections"]["closed"]["stale-epoch"] >= 1, up
    again = send(b.proxy, o.hostport, path="/after")
    assert again.status == 200 and again.body != first.body, again


def test_a_restore_while_paused_then_resume(berth, raw_origin, restore):
    """/pause (hold), a restore, a held request, /resume: the held request goes out on a fresh connection, and the
    paused pool's epoch moved on with the restore."""
    b = berth("--socket-timeout", "5s")
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin)
    first = send(b.proxy, o.hostport, path="/warm")
    assert first.status == 200
    epoch = upstream_stats(b, o.hostport)["epoch"]
    assert admin(b, "POST", f"/pause?upstream={o.hostport}").status == 200
    before = _restores(b)
    restore()
    wait_for(lambda: _restores(b) > before, timeout=5, what="the restore counted")
    result = send_in_flight(b, o.hostport, state="pending", path="/held")
    assert admin(b, "POST", f"/resume?upstream={o.hostport}").status == 200
    r = result(15)
    assert r.status == 200 and r.body != first.body, r
    assert upstream_stats(b, o.hostport)["epoch"] >= epoch + 2


def test_two_restores_back_to_back_with_requests_between(berth, raw_origin, restore):
    """Two restores 1.2 s apart (past the gate's spacing), a request after each: each goes out on a fresh connection,
    and each restore closes the connection the one before left idle."""
    b = berth()
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin)
    ports = {int(send(b.proxy, o.hostport, path="/0").body)}
    for i in (1, 2):
        wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 1, timeout=5)
        before = _restores(b)
        restore()
        wait_for(lambda: _restores(b) > before and upstream_stats(b, o.hostport)["idle"] == 0, timeout=5)
        r = send(b.proxy, o.hostport, path=f"/{i}")
        assert r.status == 200 and int(r.body) not in ports, (r, ports)
        ports.add(int(r.body))
        time.sleep(1.2)
    assert _closed(b, o.hostport, "stale-epoch") >= 2


def test_malformed_and_foreign_uevents_on_the_device_are_not_restores(berth, raw_origin, restore):
    """What root may write to the vmgenid device's uevent file besides a restore: a bare `change`, NEWVMGENID=0 or
    11, another key, garbage and a bad UUID the kernel refuses. None is a restore: the pooled connection stays and is
    reused; a real one afterwards still counts."""
    import uuid
    b = berth()
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin)
    first = send(b.proxy, o.hostport)
    assert first.status == 200
    wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 1, timeout=5)
    before = _restores(b)
    path = vmgenid_uevent_file()
    refused = 0
    # No synthetic add or remove: udev would take the device for new or gone, on a shared machine.
    for text in ("change", f"change {uuid.uuid4()} NEWVMGENID=0", f"change {uuid.uuid4()} VMGENID=1",
                 f"change {uuid.uuid4()} NEWVMGENID=11", "bogus", "change not-a-uuid NEWVMGENID=1"):
        try:
            with open(path, "w") as f:
                f.write(text)
        except OSError:
            refused += 1
    time.sleep(0.5)
    assert _restores(b) == before
    again = send(b.proxy, o.hostport)
    assert again.status == 200 and again.body == first.body, (first, again)
    assert refused >= 1  # the kernel refuses at least the garbage
    restore()
    wait_for(lambda: _restores(b) > before, timeout=5, what="the real restore counted")


def test_a_second_restore_soon_after_the_first_acts_at_once(berth, raw_origin, restore):
    """Two restores 0.3 s apart (a VM restored, then restored again from a snapshot taken just after: its gate
    remembers the first). A connection pooled between them is from before the second and must not be reused after
    it. Before: the second waited for the end of the gate's 1 s spacing, and a request meanwhile reused it."""
    b = berth()
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin)
    before = _restores(b)
    restore()
    wait_for(lambda: _restores(b) > before, timeout=5, what="the first restore")
    between = send(b.proxy, o.hostport, path="/between")
    assert between.status == 200
    wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 1, timeout=5)
    first = _restores(b)
    restore()
    wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 0, timeout=5, what="the pooled connection closed")
    # Closed before the gate's spacing ended: the second restore is counted only then, so the count is unchanged
    # (unfixed, the close came with that count, a second after the first restore).
    assert _restores(b) == first
    after = send(b.proxy, o.hostport, path="/after")
    assert after.status == 200 and after.body != between.body, (between, after)


def test_restores_interleaved_with_reloads(berth, raw_origin, restore, tmp_path):
    """Five rounds of a SIGHUP and a restore written at once (1.2 s apart, past the gate): each restore still closes
    the connection pooled before it, and berth stays up."""
    import signal
    cfg = tmp_path / "berth.yaml"
    cfg.write_text("profile: same-region-failover\nvm-restore-watch: true\n")
    b = berth("--config", str(cfg), profile=None)
    b.wait_log("VM restore watch")
    o = _Origin(raw_origin)
    for i in range(5):
        pooled = send(b.proxy, o.hostport, path=f"/{i}")
        assert pooled.status == 200
        wait_for(lambda: upstream_stats(b, o.hostport)["idle"] == 1, timeout=5)
        before = _restores(b)
        b.proc.send_signal(signal.SIGHUP)
        restore()
        wait_for(lambda: _restores(b) > before and upstream_stats(b, o.hostport)["idle"] == 0, timeout=5)
        r = send(b.proxy, o.hostport, path=f"/{i}/after")
        assert r.status == 200 and r.body != pooled.body, (pooled, r)
        time.sleep(1.2)
    assert b.proc.poll() is None
