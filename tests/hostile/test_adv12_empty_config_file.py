"""An empty configuration file is refused, so a reload that reads a file being rewritten keeps the old one (adv12).

A config tool or a shell (`>`) truncates the file before writing it again, and a SIGHUP in that window read an empty
file: a valid configuration with no settings, applied. With the profile given by flag or variable (the systemd unit's
BERTH_PROFILE) every setting went back to its default: `allow` emptied to "any destination" (403 became 200 for a
destination the file did not allow), destinations and timeouts reset. An empty or comment-only file is now refused
at start, by check-config and on a reload (which keeps the running configuration); `{}` is a file with no settings."""
import signal
import subprocess

import pytest

from berthkit import BERTH_BIN, Berth, wait_for
from hostile_wire import exchange, status_of
from berthkit.http_origin import Origin


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_check_config_refuses_an_empty_file(tmp_path, text):
    config = tmp_path / "berth.yaml"
    config.write_text(text)
    done = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 64, done.stdout
    assert "berth.yaml: the file holds no settings" in done.stderr, done.stderr


def test_an_empty_mapping_is_a_file_with_no_settings(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("{}\n")
    done = subprocess.run([BERTH_BIN, "check-config", "--profile", "same-region", str(config)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


def test_a_reload_reading_a_truncated_file_keeps_the_allow_list(tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nallow: [api.internal]\n")
    origin = Origin()
    b = Berth(["--profile", "same-region", "--config", str(config)])
    try:
        request = f"GET http://127.0.0.1:{origin.port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.port}\r\nConnection: close\r\n\r\n".encode()
        assert status_of(exchange(b.proxy, request)) == 403
        config.write_text("")
        mark = b.stderr_text().count("reload failed")
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b.stderr_text().count("reload failed") > mark or "configuration reloaded" in b.stderr_text(),
                 timeout=30, what="the reload's outcome")
        assert "configuration reloaded" not in b.stderr_text(), b.stderr_text()[-800:]
        assert status_of(exchange(b.proxy, request)) == 403
    finally:
        assert b.stop() == 0
        origin.close()
