"""adv6: a log line longer than a pipe buffer page blocked the admin's loop on a slow log reader. Every line goes to
stderr after poll(2) says it takes bytes (item 4), which on a pipe means one free page (4 KiB): a line that fits is
written whole, one that does not waits in write(2) for the reader. The audit line of an admin command carries the
request's method and target as they came, and a refused command is logged too, so any client of the admin port,
with no token, could send a ~8 KiB target of `"` (16 KiB once escaped) and hold the loop of the admin and worker 0
for as long as the log collector lagged. Now the values of a line are cut (with `...`) so that it fits in PIPE_BUF,
as the access log's request values are."""
import fcntl
import os
import subprocess
import termios
import struct
import time

from berthkit import LOOPBACK_FLAGS, parse_ready_line, spawn, stop_process
from hostile_wire import connect

F_GETPIPE_SZ = 1032


def _queued(fd):
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


def _admin(admin, target, method="POST", timeout=3.0):
    """The status line of the admin's answer, or None when none came within `timeout`."""
    c = connect(admin, timeout=timeout)
    try:
        c.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        got = b""
        while b"\r\n" not in got:
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        return got.split(b"\r\n")[0]
    except OSError:
        return None
    finally:
        c.close()


def _fill(admin, r):
    """Audit lines of ~1 KiB until the pipe takes no more; its size."""
    size = fcntl.fcntl(r, F_GETPIPE_SZ)
    last, still = -1, 0
    for _ in range(4 * size // 1000):
        assert _admin(admin, "/pause?x=" + "A" * 1000).startswith(b"HTTP/1.1 400")
        n = _queued(r)
        still = still + 1 if n == last else 0
        if still >= 3:
            return n
        last = n
    raise AssertionError(f"the pipe never filled: {_queued(r)} of {size} bytes")


def test_a_long_audit_line_never_holds_the_admin_on_a_slow_log_reader():
    r, w = os.pipe()
    proc = spawn([*LOOPBACK_FLAGS, "--log-format", "logfmt"], stdout=subprocess.PIPE, stderr=w)
    os.close(w)
    try:
        _proxy, admin = parse_ready_line(proc.stdout.readline().decode())
        _fill(admin, r)
        # The reader catches up by one page: room for a line of up to 4 KiB, not for more.
        os.read(r, 4096)
        # ~7 KiB of `"`, logged as ~14 KiB (`\"` each); refused (400), and logged as every admin command is.
        started = time.monotonic()
        line = _admin(admin, "/pause?x=" + '"' * 7000, timeout=3.0)
        assert line is not None and line.startswith(b"HTTP/1.1 400"), line
        # The admin (and worker 0, whose loop it shares) still answers at once.
        assert _admin(admin, "/healthz", method="GET", timeout=3.0) == b"HTTP/1.1 200 OK"
        assert time.monotonic() - started < 5
        assert proc.poll() is None
        # What reached the log is whole lines only: the cut line ends with its newline, as every other does.
        os.set_blocking(r, False)
        data = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        lines = data.decode("utf-8", "replace").splitlines()
        for text in lines[1:]:
            assert text.startswith("ts="), text[:200]
            assert len(text) < 4096, len(text)
        cut = [t for t in lines if 'target="/pause?x=\\"\\"' in t]
        assert len(cut) == 1 and cut[0].endswith('..."'), [t[:300] for t in cut]
    finally:
        os.set_blocking(r, False)
        try:
            while os.read(r, 65536):
                pass
        except (BlockingIOError, OSError):
            pass
        stop_process(proc, grace=5)
        os.close(r)
