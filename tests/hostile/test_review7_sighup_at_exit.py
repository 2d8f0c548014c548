"""SIGHUP during the last moments of a shutdown (review7). Once the drain is over berth frees its signal watches,
and libevent puts back the disposition it found: the default one, which for SIGHUP ends the process. A reload
sent then (an orchestrator or config-management run racing a stop) made berth die of SIGHUP instead of exiting 0.
berth now ignores SIGHUP from the start, so its watch, while it lives, is the only thing that hears one."""
import os
import signal
import time


def test_sighup_spam_during_shutdown_still_exits_zero(berth, tmp_path):
    config = tmp_path / "berth.yaml"
    config.write_text("max-total: 100\n")
    exits = []
    for _ in range(5):
        b = berth("--config", str(config), "--drain-timeout", "50ms")
        b.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        while b.proc.poll() is None and time.monotonic() < deadline:
            try:
                os.kill(b.proc.pid, signal.SIGHUP)
            except ProcessLookupError:
                break
            time.sleep(0.0002)
        b.proc.wait(15)
        exits.append(b.proc.returncode)
    assert exits == [0] * 5, exits
