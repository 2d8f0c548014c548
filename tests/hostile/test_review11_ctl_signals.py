"""review11: `ctl` keeps the default signal actions however its options are placed (item 71's rule).

`main` chose the server's early-signal handling from the first argument alone, but options may come before the
subcommand (`berth --log-level info ctl top` parses as `ctl top`): such a `ctl` got the server's handler, which only
notes SIGHUP, SIGTERM and SIGINT for a watch a `ctl` never makes, so a SIGHUP (a terminal hung up) left `top`
running. The signals are blocked from the first instruction (CEarlySignals), so the choice now waits for the parse.
Before: `--log-level info ctl top` outlived its SIGHUP."""
import os
import pty
import signal
import time

import pytest

from berthkit import spawn


@pytest.mark.parametrize("args", [["ctl", "top"], ["--log-level", "info", "ctl", "top"]], ids=["plain", "option-first"])
def test_ctl_top_dies_of_a_sighup_wherever_its_options_are(berth, args):
    b = berth()
    host, port = b.admin
    primary, secondary = pty.openpty()
    # A terminal's ctl: a run under nohup (which ignores SIGHUP for every descendant, across exec) must not make
    # the hang-up this test sends a no-op; ctl keeps what it inherits, as any program under nohup does.
    p = spawn(args, stdin=secondary, stdout=secondary, stderr=secondary, env={"BERTH_ADMIN": f"{host}:{port}"},
              preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    os.close(secondary)
    try:
        time.sleep(1.0)  # top is drawing
        assert p.poll() is None, p.returncode
        p.send_signal(signal.SIGHUP)
        assert p.wait(timeout=5) == -signal.SIGHUP
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(primary)
