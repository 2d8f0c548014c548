"""Aliases cannot nest a configuration past the depth bound item 158 set (rev21).

Item 158 counts nesting in libyaml's events before Yams composes a file. An alias is one event, yet it stands for
the whole node its anchor named: a chain of anchors, each 60 levels deep around an alias of the one before, stays 61
levels deep in the events while the composed tree is 60 times the chain's length deep. 5,000 of them (690 KB) made
a tree 300,000 levels deep, and freeing it overflowed the stack: `check-config` died of SIGSEGV, and a SIGHUP with
such a file would have killed berth. An alias now counts as deep as its anchor's node."""
import signal
import subprocess

from berthkit import BERTH_BIN, Berth, wait_for
from hostile_wire import exchange, status_of


def alias_chain(links=5000, depth=60):
    lines = [f"  - &a{i} " + "[" * depth + (f"*a{i - 1}" if i else "1") + "]" * depth for i in range(links)]
    return "destinations:\n" + "\n".join(lines) + "\n"


def test_check_config_refuses_a_chain_of_aliases_nested_past_the_bound(tmp_path):
    config = tmp_path / "aliases.yaml"
    config.write_text(alias_chain())
    done = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                          capture_output=True, timeout=60)
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 64, (done.returncode, err[-800:])
    assert "nested" in err and len(err) < 2000, err[-800:]


def test_aliases_within_the_bound_are_read_as_before(tmp_path):
    """An anchor reused (a destination's `tls` settings) composes as YAML says: the check passes it on."""
    config = tmp_path / "ok.yaml"
    config.write_text("destinations:\n"
                      "  - {match: a.internal, socket-timeout: &t 7s}\n"
                      "  - {match: b.internal, socket-timeout: *t}\n"
                      "allow: &hosts [a.internal, b.internal]\n")
    done = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                          capture_output=True, timeout=60)
    out = done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    assert done.returncode == 0, out[-800:]
    assert "nested" not in out


def test_a_reload_with_a_chain_of_aliases_keeps_berth(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n")
    b = Berth(["--profile", "same-region-failover", "--config", str(config)])
    try:
        config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n" + alias_chain())
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in b.stderr_text() or b.proc.poll() is not None, timeout=30,
                 what="the reload's outcome")
        assert b.proc.poll() is None, (b.proc.returncode, b.stderr_text()[-800:])
        assert "nested" in b.stderr_text().split("reload failed")[-1][:2000], b.stderr_text()[-800:]
        got = exchange(b.admin, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200, got[:300]
    finally:
        assert b.stop() == 0
