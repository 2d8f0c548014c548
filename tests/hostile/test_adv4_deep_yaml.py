"""A configuration file nested thousands of levels deep is refused with a message, at start and on a reload (adv4).

The YAML composer berth reads files with recurses once per level of nesting: a file of `[` ten thousand deep (20 KB,
well under the 4 MiB a file may have) overflowed the stack, so `check-config` died of SIGSEGV and a SIGHUP with such
a file killed the running berth, every caller with it, where a bad file on a reload must keep the running
configuration."""
import signal
import subprocess

import pytest

from berthkit import BERTH_BIN, Berth, wait_for
from hostile_wire import exchange, status_of

DEPTH = 100_000

DEEP_FILES = {
    "flow-sequences": "listen: " + "[" * DEPTH + "]" * DEPTH + "\n",
    "flow-mappings": "allow: " + "{a: " * DEPTH + "b" + "}" * DEPTH + "\n",
    "block-sequences": "destinations:\n  " + "- " * DEPTH + "x\n",
}


@pytest.mark.parametrize("shape", sorted(DEEP_FILES))
def test_check_config_refuses_a_deeply_nested_file_with_a_message(tmp_path, shape):
    config = tmp_path / "deep.yaml"
    config.write_text(DEEP_FILES[shape])
    done = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                          capture_output=True, timeout=60)
    err = done.stderr.decode(errors="replace")
    assert done.returncode == 64, (done.returncode, err[-800:])
    assert "nested" in err and len(err) < 2000, err[-800:]


def test_a_reload_with_a_deeply_nested_file_keeps_berth_and_its_configuration(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\n")
    b = Berth(["--profile", "same-region-failover", "--config", str(config)])
    try:
        for shape in sorted(DEEP_FILES):
            config.write_text(DEEP_FILES[shape])
            mark = b.stderr_text().count("reload failed")
            b.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: b.stderr_text().count("reload failed") > mark or b.proc.poll() is not None, timeout=30,
                     what="the reload's outcome")
            assert b.proc.poll() is None, (shape, b.proc.returncode, b.stderr_text()[-800:])
            assert "nested" in b.stderr_text().split("reload failed")[-1][:2000], b.stderr_text()[-800:]
            got = exchange(b.admin, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert status_of(got) == 200, got[:300]
    finally:
        assert b.stop() == 0
