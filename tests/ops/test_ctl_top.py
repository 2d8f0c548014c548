"""`berth ctl top` in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen."""
import os
import shlex
import subprocess
import time

import pytest

from ops_helpers import BERTH_BIN, Traffic, need
from waiting import wait_for


class Tmux:
    """One detached tmux session on a private server socket, so the test never touches the user's tmux."""

    def __init__(self, tmp_path, command, width=160, height=30):
        self.tmux = need("tmux", "tmux")
        self.socket = str(tmp_path / "tmux.sock")
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {"TERM": "xterm-256color"}.items())
        # The shell line reports top's exit status and keeps the pane open long enough to read it.
        line = f"env {env} {command}; echo TOP-EXITED-$?; sleep 30"
        self.run("new-session", "-d", "-s", "top", "-x", str(width), "-y", str(height), line)

    def run(self, *args):
        return subprocess.run([self.tmux, "-S", self.socket, *args], capture_output=True, text=True, timeout=10, check=True).stdout

    def screen(self):
        return self.run("capture-pane", "-p", "-t", "top")

    def keys(self, *keys):
        self.run("send-keys", "-t", "top", *keys)

    def close(self):
        subprocess.run([self.tmux, "-S", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def tmux(tmp_path):
    made = []

    def start(command, **kw):
        t = Tmux(tmp_path, command, **kw)
        made.append(t)
        return t

    yield start
    for t in made:
        t.close()


def _row(screen, upstream):
    for line in screen.splitlines():
        if line.startswith(upstream + " "):
            return line.split()
    return None


def test_top_shows_live_rates_sorts_and_quits(berth, origin, tmux):
    b = berth()
    up = origin.hostport
    refused = "127.0.0.1:1"
    cmd = f"{shlex.quote(BERTH_BIN)} ctl top --interval 0.5 --admin 127.0.0.1:{b.admin[1]}"
    t = tmux(cmd)
    screen = wait_for(lambda: (s := t.screen()) and "q quit, s sort" in s and s,
                      timeout=20, interval=0.2, what="top's first frame")
    assert screen.startswith("berth 0."), screen
    assert "by requests/s" in screen and "upstreams 0" in screen

    traffic = Traffic(b, {f"http://{up}/": 40, f"http://{refused}/": 5})
    try:
        # Rates come from one refresh to the next: the busy upstream shows a non-zero REQ/S, and is listed first.
        def busy():
            s = t.screen()
            row = _row(s, up)
            return row and row[9] != "-" and float(row[9]) > 5 and s
        screen = wait_for(busy, timeout=20, interval=0.2, what="a request rate for the busy upstream")
        header = next(line for line in screen.splitlines() if line.startswith("UPSTREAM"))
        assert header.split()[9:11] == ["REQ/S", "ERR/S"]
        table = [line for line in screen.splitlines()[screen.splitlines().index(header) + 1:] if line.strip()]
        assert table[0].startswith(up), table
        assert "req/s" in screen.splitlines()[4] and "err/s" in screen.splitlines()[4]

        t.keys("s")
        screen = wait_for(lambda: (s := t.screen()) and "by errors" in s and s,
                          timeout=20, interval=0.2, what="the order to change to errors")
        table = [line for line in screen.splitlines() if line.startswith("127.0.0.1:")]
        assert table[0].startswith(refused + " "), table
        assert _row(screen, refused)[-2] == "connect-refused"
    finally:
        traffic.stop()

    t.keys("q")
    screen = wait_for(lambda: (s := t.screen()) and "TOP-EXITED-" in s and s,
                      timeout=20, interval=0.2, what="top to exit")
    assert "TOP-EXITED-0" in screen
    # The alternate screen is gone: what is left is the shell's screen, not a frame.
    assert "q quit, s sort" not in screen


def test_top_keeps_trying_while_berth_is_away_and_stops_on_ctrl_c(berth, tmux):
    b = berth()
    port = b.admin[1]
    t = tmux(f"{shlex.quote(BERTH_BIN)} ctl top --interval 0.3 --admin 127.0.0.1:{port}")
    wait_for(lambda: "upstreams 0" in t.screen(), timeout=20, interval=0.2, what="top's first frame")
    b.stop()
    screen = wait_for(lambda: (s := t.screen()) and "(retrying)" in s and s,
                      timeout=20, interval=0.2, what="top to say berth is away")
    assert f"cannot connect to 127.0.0.1:{port}: Connection refused (retrying)" in screen
    t.keys("C-c")
    screen = wait_for(lambda: (s := t.screen()) and "TOP-EXITED-" in s and s,
                      timeout=20, interval=0.2, what="top to stop on Ctrl-C")
    assert "TOP-EXITED-0" in screen


def test_top_without_a_terminal_prints_frames(berth, origin):
    """Piped (a script, a log): plain frames one after another, no escape codes, and --iterations ends it."""
    b = berth()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BERTH_")}
    t0 = time.monotonic()
    p = subprocess.run([BERTH_BIN, "ctl", "top", "--interval", "0.2", "--iterations", "3", "--admin", f"127.0.0.1:{b.admin[1]}"],
                       capture_output=True, text=True, timeout=20, env=env, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert "\x1b" not in p.stdout
    assert p.stdout.count("q quit, s sort") == 3
    assert p.stdout.count("rates after the next refresh") == 1
    assert time.monotonic() - t0 >= 0.4
