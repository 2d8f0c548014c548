"""rev23, a guard on item 197: a linger over an upload ends at its total even for a caller that never stops sending.

After an early answer berth lingers over the rest of the upload, each read giving another gap, up to the linger's
end (30 s, at most the caller idle timeout), so a caller that neither closes nor stops sending cannot hold the
session. Past that end each read re-arms the timer 1 ns on, and a deadline that passes while the socket is readable
is put off by 1 ms with the read run first (Channel+Timer.swift): the worry was a caller whose socket is readable at
every firing, put off, read, re-armed and put off again for ever. It held (the linger ends at the idle timeout's 3 s
with `cat /dev/zero` writing on the socket); this keeps it so."""
import subprocess
import time

from berthkit import stats
from hostile_wire import connect, status_of


def _early_413(conn):
    msg = conn.read_request_head()
    if msg is not None:
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")


def test_a_caller_sending_without_pause_is_cut_at_the_lingers_end(berth, raw_origin):
    o = raw_origin(_early_413)
    b = berth("--caller-idle-timeout", "3s", "--workers", "1")
    s = connect(b.proxy, timeout=5)
    flood = None
    try:
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {1 << 40}\r\n\r\n".encode())
        head = s.recv(65536)
        assert status_of(head) == 413, head[:200]
        start = time.monotonic()
        # As fast as the kernel takes it, as a large upload from a native client does: `cat` writes on the socket.
        flood = subprocess.Popen(["timeout", "15", "cat", "/dev/zero"], stdout=s.fileno(), stderr=subprocess.DEVNULL)
        ended = None
        while time.monotonic() - start < 12:
            if stats(b)["totals"]["callers"] == 0:
                ended = time.monotonic() - start
                break
            time.sleep(0.1)
        # The linger's end is the idle timeout's 3 s from its start.
        assert ended is not None and ended < 8, ended
    finally:
        if flood is not None:
            flood.kill()
            flood.wait()
        s.close()
