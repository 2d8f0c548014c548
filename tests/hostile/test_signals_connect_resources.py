"""A connect that fails for want of a local resource (no free local port: EADDRNOTAVAIL; kernel memory: ENOBUFS,
ENOMEM) is berth's shortage, answered 503 `out-of-resources` as HAProxy answers 503 for one, never 502
`connect-refused` counted against a healthy upstream that refused nothing."""
import os
import shutil
import signal
import sys
import time

import pytest

from hostile_wire import connect, header_of, read_response, status_of

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None,
                                reason="needs root, unshare(1) and ip(8) for a network namespace of its own")

# Accepts every connection and holds it unanswered, for at most 60 s, writing its PID first.
HOLDER = """
import os, socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 8080)); l.listen(16)
open(sys.argv[1], "w").write(str(os.getpid()))
l.settimeout(1); held = []; end = time.monotonic() + 60
while time.monotonic() < end:
    try: held.append(l.accept()[0])
    except OSError: pass
"""


def _in_a_namespace_with_two_local_ports(tmp_path):
    """The command prefix that runs berth in a network namespace of its own, whose connects have two local ports
    (40000-40001) and whose 127.0.0.1:8080 holds every connection; berth listens on Unix sockets, reachable from here."""
    holder = tmp_path / "holder.py"
    holder.write_text(HOLDER)
    pidfile = tmp_path / "holder.pid"
    script = (f"ip link set lo up && sysctl -qw net.ipv4.ip_local_port_range='40000 40001' && "
              f"{{ {sys.executable} {holder} {pidfile} & }} && "
              f"while [ ! -s {pidfile} ]; do sleep 0.05; done && exec \"$@\"")
    return ("unshare", "-n", "sh", "-c", script, "sh"), pidfile


def test_no_free_local_port_is_berths_shortage_not_the_upstreams_refusal(start_berth, tmp_path):
    wrapper, pidfile = _in_a_namespace_with_two_local_ports(tmp_path)
    try:
        b = start_berth("--profile", "max-timeout", "--listen", f"unix:{tmp_path}/p.sock",
                        "--admin", f"unix:{tmp_path}/a.sock", wrapper=wrapper)
        request = b"GET http://127.0.0.1:8080/ HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
        held = []
        for _ in range(2):  # each takes one of the two local ports, its answer never comes
            c = connect(b.proxy, timeout=10)
            c.sendall(request)
            held.append(c)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # both connected and waiting for their answers
            admin = connect(b.admin, timeout=5)
            admin.sendall(b"GET /stats HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
            _, body = read_response(admin)
            admin.close()
            if b'"busy":2' in body:
                break
            time.sleep(0.05)
        c = connect(b.proxy, timeout=10)
        c.sendall(request)
        head, body = read_response(c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "out-of-resources", head + body
        assert b"Cannot assign requested address" in body, body
        for h in held:
            h.close()
    finally:
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass
