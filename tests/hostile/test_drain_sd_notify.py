"""systemd's Type=notify: berth says READY=1 once it listens and handles its signals, and STOPPING=1 at a stop (h-drain).

With Type=exec systemd ended the start job at exec, so a `systemctl reload` right after a start sent SIGHUP while
berth was still loading (test_drain_signals_at_exec.py). Under Type=notify the start ends at READY=1 and a queued
reload waits for it; the unit in deploy/systemd uses it. The test plays systemd: a datagram socket named in
NOTIFY_SOCKET, by path and in the abstract namespace. Before: no datagram came."""
import os
import signal
import socket
import subprocess
import tempfile

import pytest

from berthkit import LOOPBACK_FLAGS, spawn


def _notified(sock):
    """The next datagram berth sent, as text."""
    sock.settimeout(10)
    return sock.recv(4096).decode()


@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_ready_comes_after_the_listening_line_and_stopping_at_sigterm(abstract):
    with tempfile.TemporaryDirectory() as d:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"\0berth-notify-{os.getpid()}" if abstract else os.path.join(d, "notify")
        sock.bind(name)
        env = {"NOTIFY_SOCKET": "@" + name[1:] if abstract else name}
        p = spawn(LOOPBACK_FLAGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            ready = _notified(sock)
            assert ready == "READY=1", ready
            line = p.stdout.readline()
            assert line.startswith("berth listening"), line
            # Ready means a reload is safe now: it reloads, and berth stays.
            p.send_signal(signal.SIGHUP)
            seen = ""
            while "configuration reloaded" not in seen:
                more = p.stderr.readline()
                assert more, f"berth ended after the SIGHUP: {p.wait(5)}; {seen[-500:]}"
                seen += more
            p.send_signal(signal.SIGTERM)
            assert _notified(sock) == "STOPPING=1"
            _, err = p.communicate(timeout=20)
            err = seen + err
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            sock.close()
        assert p.returncode == 0, (p.returncode, err[-500:])
        assert "configuration reloaded" in err and "msg=stopped" in err, err[-800:]
