"""review4: the access log writes to stderr from the worker's loop; a stderr nobody reads (a full pipe) or nobody
holds (a closed pipe) must cost the lines, never the requests or the process."""
import os
import signal
import subprocess

import pytest

from berthkit import LOOPBACK_FLAGS, RawClient, spawn, get_req, keepalive_loop, parse_ready_line, stats, stop_process

# Each line is ~500 bytes: 1000 of them are ~8 pipe buffers (64 KiB each), so the pipe fills well before the end.
REQUESTS = 1000


def start_with_stderr(fd, *flags):
    """berth with `fd` as its stderr (the test's own pipe end), and its proxy address."""
    proc = spawn([*LOOPBACK_FLAGS, *flags], stdout=subprocess.PIPE, stderr=fd)
    line = proc.stdout.readline().decode()
    proxy, admin = parse_ready_line(line)
    return proc, proxy, admin


@pytest.mark.parametrize("reader", ["full", "closed"])
def test_requests_are_served_whatever_stderr_does(raw_origin, reader):
    """Before: with a pipe on stderr nobody reads, the worker blocked in write(2) once the pipe was full (~130
    lines) and every caller after it timed out. After: the lines that do not fit are dropped, all requests answer."""
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    r, w = os.pipe()
    proc, proxy, admin = start_with_stderr(w, "--access-log", "--log-format", "json", "--idle-timeout", "30s")
    os.close(w)
    if reader == "closed":
        os.close(r)
    try:
        c = RawClient(proxy, timeout=5)
        try:
            for n in range(REQUESTS):
                assert c.request(get_req(o.hostport, f"/{n}")).status == 200
        finally:
            c.close()
        # A reload logs through the logger: a closed stderr must not end berth either.
        proc.send_signal(signal.SIGHUP)
        c = RawClient(proxy, timeout=5)
        try:
            assert c.request(get_req(o.hostport, "/after")).status == 200
        finally:
            c.close()
        assert proc.poll() is None, f"berth ended with {proc.returncode}"
    finally:
        stop_process(proc, grace=5)
        if reader == "full":
            os.close(r)
