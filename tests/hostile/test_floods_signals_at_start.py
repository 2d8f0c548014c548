"""A signal during berth's start, after it logged "starting" and before its signal watch exists (workers, listeners
and TLS contexts are being made): SIGHUP killed berth (status -1: the default action of a reload request sent
right after a restart), SIGTERM and SIGINT ended it by the signal. Now the start holds them: SIGHUP reloads once the
server runs, SIGTERM and SIGINT stop it with exit 0 as they do later."""
import signal
import subprocess
import time

import pytest

from berthkit import LOOPBACK_FLAGS, spawn

ROUNDS = 5


def _start():
    return spawn([*LOOPBACK_FLAGS, "--workers", "4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _signal_while_starting(p, sig):
    """Sends `sig` as soon as berth logged that it is starting (before its ready line)."""
    line = p.stderr.readline()
    assert "msg=starting" in line, line
    p.send_signal(sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_during_the_start_exits_0(sig):
    for _ in range(ROUNDS):
        p = _start()
        try:
            _signal_while_starting(p, sig)
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0, (p.returncode, err[-500:])
        assert "msg=stopped" in err, err[-500:]


def test_a_reload_during_the_start_is_a_reload_not_a_death():
    for _ in range(ROUNDS):
        p = _start()
        try:
            _signal_while_starting(p, signal.SIGHUP)
            ready = p.stdout.readline()
            time.sleep(0.3)
            assert p.poll() is None, f"berth died of the SIGHUP: {p.returncode}"
            assert ready.startswith("berth listening"), ready
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0, (p.returncode, err[-500:])
        assert "configuration reloaded" in err, err[-800:]
