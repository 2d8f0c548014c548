"""A stop or reload sent while berth's binary is still loading, before any of its code runs (h-drain).

Between exec and `main` the libraries' initializers run (Swift's runtime, Foundation, ICU: some 12 ms on a loaded
2-core machine, measured by sending SIGHUP 0-30 ms after the spawn), and SIGHUP, SIGTERM and SIGINT had their
default actions there: a `systemctl reload` right after a start (ExecReload=kill -HUP, and with Type=exec the start
is over at exec) killed berth, which systemd counts as a clean stop and does not restart. berth now blocks them from
its .preinit_array, before those initializers, and unblocks them once its handler is in: one sent meanwhile waits.

That window is timing, so the test makes it certain instead: berth is started with the signal already pending and
blocked (a blocked mask survives exec), exactly the state the preinit block leaves a signal sent while loading in.
Before the fix the signal stayed blocked for ever: no reload, no stop."""
import signal
import subprocess
import time

from berthkit import LOOPBACK_FLAGS, spawn

HELD = {signal.SIGHUP, signal.SIGTERM, signal.SIGINT}


def _start_with_pending(sig):
    """berth started with its held signals blocked (as at exec after the preinit block), and `sig` sent at once."""
    p = spawn(LOOPBACK_FLAGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
              preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, HELD))
    p.send_signal(sig)
    return p


def _end(p):
    if p.poll() is None:
        p.kill()
        p.wait()


def test_a_stop_sent_while_loading_drains_and_exits_0():
    for sig in (signal.SIGTERM, signal.SIGINT):
        p = _start_with_pending(sig)
        try:
            try:
                _, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{sig.name} sent while loading was never acted on") from None
        finally:
            _end(p)
        assert p.returncode == 0, (sig.name, p.returncode, err[-500:])
        assert "msg=stopped" in err, err[-500:]


def test_a_reload_sent_while_loading_is_a_reload():
    p = _start_with_pending(signal.SIGHUP)
    try:
        ready = p.stdout.readline()
        assert ready.startswith("berth listening"), ready
        time.sleep(0.5)
        assert p.poll() is None, f"berth died of the SIGHUP: {p.returncode}"
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
    finally:
        _end(p)
    assert p.returncode == 0, (p.returncode, err[-500:])
    assert "configuration reloaded" in err, err[-800:]


def test_ctl_keeps_the_default_actions():
    """`berth ctl` and `check-config` let the signals through as the launcher sent them: a SIGINT pending at exec
    ends `ctl` by the signal (as Ctrl-C does `ctl top`)."""
    p = spawn(["ctl", "--admin", "127.0.0.1:9", "top"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
              stdin=subprocess.DEVNULL, preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, HELD))
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=10)
    finally:
        _end(p)
    assert p.returncode == -signal.SIGINT, p.returncode
