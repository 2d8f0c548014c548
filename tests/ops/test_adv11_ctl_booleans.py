"""adv11: `berth ctl` prints berth's true and false as true and false. Foundation hands a JSON boolean over as an
NSNumber, and the readable summary printed it as one: `frozen 0`, `unwatched 1`, `frozen 1` in the freezer line of
`ctl stats`, which an operator reads as counts (is "frozen 1" one frozen cgroup?) and a script greps for in vain."""
from berthkit import wait_for, upstream_stats
from ops_helpers import ctl


def _ok(p):
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p.stdout


def test_watch_unwatch_and_stats_print_booleans_as_words(berth, tmp_path):
    b = berth()
    cg = tmp_path / "fn-1"
    cg.mkdir()
    (cg / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    out = _ok(ctl("watch", "127.0.0.1:9", "--cgroup", str(cg), berth=b))
    assert "frozen false" in out, out
    (cg / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    wait_for(lambda: (upstream_stats(b, "127.0.0.1:9") or {}).get("state") == "paused", what="the freeze seen")
    out = _ok(ctl("stats", "127.0.0.1:9", berth=b))
    line = next(l for l in out.splitlines() if l.startswith("freezer watch"))
    assert "frozen true" in line, line
    out = _ok(ctl("unwatch", "127.0.0.1:9", berth=b))
    assert "unwatched true" in out, out
    out = _ok(ctl("unwatch", "127.0.0.1:9", berth=b))
    assert "unwatched false" in out, out


def test_counts_of_zero_and_one_stay_numbers(berth):
    """Only JSON's true and false become words: an epoch of 1 and a count of 0 are printed as numbers."""
    b = berth()
    out = _ok(ctl("pause", "127.0.0.1:9", berth=b))
    assert out == "127.0.0.1:9 paused (mode hold, epoch 1): 0 idle connections closed, 0 in flight\n", out
