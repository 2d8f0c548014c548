"""review17: the commands that keep the default signal actions (`ctl`, `check-config`) keep them for the signals item
120 added to the exec-time block (SIGQUIT, SIGUSR1, SIGUSR2): blocked before any initializer runs, they must be let
through again by `EarlySignals.release`, or a `ctl top` or a `check-config` stuck on a FIFO outlives them."""
import os
import pty
import signal
import time

import pytest

from berthkit import spawn

# SIGQUIT is left out: the Swift runtime's backtracer catches it in every Swift program (on a terminal it stops at
# an interactive prompt), before and after item 120 alike.
SIGNALS = [signal.SIGUSR1, signal.SIGUSR2]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_ctl_top_dies_of_the_signals_berth_itself_handles(berth, sig):
    b = berth()
    host, port = b.admin
    primary, secondary = pty.openpty()
    p = spawn(["ctl", "top"], stdin=secondary, stdout=secondary, stderr=secondary,
              env={"BERTH_ADMIN": f"{host}:{port}"})
    os.close(secondary)
    try:
        time.sleep(1.0)  # top is drawing
        assert p.poll() is None, p.returncode
        p.send_signal(sig)
        assert p.wait(timeout=5) == -sig
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(primary)
