"""Counts near Int.max in the configuration (review7): max-total and max-callers are summed with berth's own
descriptor reserve, which trapped on overflow (SIGILL) at start and, worse, on a SIGHUP reload of a running proxy.
A start must refuse with a message, a reload must keep the running configuration, and nothing may die."""
import signal

import pytest

from berthkit import BerthDidNotStart, wait_for
from berthkit.process import Berth  # noqa: F401  (the fixture makes it)

HUGE = "9223372036854775807"


@pytest.mark.parametrize("flags", [
    ["--max-total", HUGE],
    ["--max-total", HUGE, "--max-per-route", HUGE],
    ["--max-total", "9223372036854775800", "--workers", "64"],
    ["--max-callers", HUGE],
    ["--max-total", HUGE, "--max-callers", HUGE],
], ids=["max-total", "max-total-and-route", "max-total-64-workers", "max-callers", "both"])
def test_a_huge_count_at_start_is_refused_or_taken_not_a_crash(start_berth, flags):
    try:
        b = start_berth(*flags)
    except BerthDidNotStart as e:
        # Refused: an exit status of its own (a signal reads as a negative returncode) and a reason.
        assert e.returncode is not None and e.returncode > 0, (e.returncode, e.stderr[-2000:])
        assert "max-" in e.stderr or "RLIMIT_NOFILE" in e.stderr, e.stderr[-2000:]
        return
    assert b.proc.poll() is None


@pytest.mark.parametrize("text", [
    f"max-total: {HUGE}\n",
    f"max-callers: {HUGE}\n",
    f"max-total: {HUGE}\nmax-callers: {HUGE}\n",
], ids=["max-total", "max-callers", "both"])
def test_a_reload_with_a_huge_count_keeps_berth_running(berth, tmp_path, text):
    config = tmp_path / "berth.yaml"
    config.write_text("max-total: 500\n")
    b = berth("--config", str(config))
    config.write_text(text)
    b.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: b.proc.poll() is not None or "reload failed" in b.stderr_text()
             or "configuration reloaded" in b.stderr_text(), timeout=10, what="the reload's outcome")
    assert b.proc.poll() is None, f"berth died on the reload: exit {b.proc.returncode}\n{b.stderr_text()[-3000:]}"
    # Still serving its admin API.
    import requests
    assert requests.get(f"{b.admin_url}/healthz", timeout=5).status_code == 200
