"""Stopping a child process the tests started: a signal, a grace period, then SIGKILL, bounded either way."""
import signal
import subprocess


def stop_process(proc, grace=15, sig=signal.SIGTERM):
    """Sends `sig` to a running `proc`, waits up to `grace` seconds, then kills it and waits up to 5 more."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
