"""berth started with stdin, stdout and stderr closed writes its logs nowhere, never into a descriptor of its own (adv4).

A launcher that closes descriptors 0-2 (a hand-rolled daemonizer, `cmd <&- >&- 2>&-`) leaves them to the first files
berth opens: the event loop's epoll descriptor took 0 and libevent's signal pipe 1 and 2, so every log line (the
access log's, the ready line) went into the pipe through which libevent learns of SIGTERM and SIGHUP, and was read
back there as signal numbers; a pipe filled with log lines has no room for a signal's byte. Go's runtime opens
/dev/null on 0-2 when a program starts without them, as nginx and HAProxy do when they daemonize; berth now does the
same before anything else runs."""
import os
import signal
import socket
import subprocess
import time

from berthkit import BERTH_BIN, get_req
from hostile_wire import connect, read_to_end, status_of


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_logs_of_a_berth_started_without_standard_descriptors_go_to_dev_null(raw_origin):
    o = raw_origin(lambda conn: conn.read_request() and conn.respond(200, b"ok"))
    proxy, admin = free_port(), free_port()
    cmd = (f"exec {BERTH_BIN} --profile same-region-failover --listen 127.0.0.1:{proxy} --admin 127.0.0.1:{admin}"
           " --access-log <&- >&- 2>&-")
    p = subprocess.Popen(["bash", "-c", cmd])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                connect(("127.0.0.1", admin), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        s = connect(("127.0.0.1", proxy))
        s.sendall(get_req(o.hostport, "/x", extra=b"Connection: close\r\n"))
        got, how = read_to_end(s, timeout=5)
        assert status_of(got) == 200, got[:200]
        links = {fd: os.readlink(f"/proc/{p.pid}/fd/{fd}") for fd in (0, 1, 2)}
        assert links == {0: "/dev/null", 1: "/dev/null", 2: "/dev/null"}, links
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
