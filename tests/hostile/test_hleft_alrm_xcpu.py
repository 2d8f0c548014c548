"""SIGALRM and SIGXCPU (h-left): a stray alarm leaves berth serving, and the CPU time limit's warning drains it.

berth sets no alarm, so a SIGALRM is a stray one (a tool's `kill -ALRM`, a library's alarm(2)); its default action
ended the proxy with every accepted request cut. nginx catches it and goes on; berth ignores it. SIGXCPU is the
kernel's warning that the process passed its soft RLIMIT_CPU (`ulimit -t`, systemd's LimitCPU=), each second until the
hard limit's SIGKILL; its default action dumped core at once. Now berth says so in its log and drains as for SIGTERM,
serving what it accepted while the limit leaves it time, then exits 152 (128 + SIGXCPU), a failure, so a supervisor
that restarts on failure restarts it."""
import signal
import time

from hostile_wire import connect, header_of, read_response, status_of
from test_signals_stray import _get, _origin


def test_sigalrm_leaves_berth_serving(start_berth):
    origin = _origin(0)
    try:
        port = origin.getsockname()[1]
        b = start_berth()
        for _ in range(3):
            b.proc.send_signal(signal.SIGALRM)
            time.sleep(0.05)
        time.sleep(0.2)
        assert b.proc.poll() is None, f"berth ended by SIGALRM: {b.proc.returncode}"
        head, body = _get(b, port)
        assert status_of(head) == 200 and body == b"hello", head + body
        b.proc.send_signal(signal.SIGTERM)
        assert b.proc.wait(10) == 0
    finally:
        origin.close()


def test_sigxcpu_is_logged_and_drains_then_exits_as_a_failure(start_berth):
    origin = _origin(0.5)
    try:
        port = origin.getsockname()[1]
        b = start_berth("--drain-timeout", "20s")
        c = connect(b.proxy, timeout=10)
        c.sendall(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        time.sleep(0.2)
        b.proc.send_signal(signal.SIGXCPU)
        time.sleep(0.05)
        b.proc.send_signal(signal.SIGXCPU)  # the kernel repeats it each second past the soft limit
        head, body = read_response(c)
        assert status_of(head) == 200 and body == b"hello", head + body
        assert header_of(head, "connection") == "close", head
        c.close()
        assert b.proc.wait(10) == 128 + signal.SIGXCPU
        assert "RLIMIT_CPU" in b.stderr_text(), b.stderr_text()[-2000:]
    finally:
        origin.close()
