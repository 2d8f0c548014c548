"""A session closing after a cut response, whose timer then fires, closes once (rev20, of 149 and 150).

An upstream's end inside a body cuts the response (`cutResponse`: counted `response-truncated`, the caller reset
unless its chunked framing shows the cut) and the session closes after its output: it waits for a slow caller under
the caller idle timeout, then lingers (a chunked body's FIN while its caller has not read it all yet, up to 2 s).
Items 149 and 150 send the caller's timer and the drain timeout through `closeCuttingAnswer`, which took such a
session's response (its head out, its end never relayed) for one still under way and cut it again: the second
`closeAfterFlush` moved the closing session to closing, which traps, and the whole process died (SIGTRAP), 2 s
after any chunked answer an origin cut while its caller was still reading it."""
import os
import signal
import socket
import time

from berthkit import stats
from hostile_wire import connect, read_to_end

PART = 1 << 20


def _cut_chunked(conn):
    if conn.read_request_head() is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (2 * PART) + b"y" * PART)
    conn.sock.close()


def _cut_length(conn):
    if conn.read_request_head() is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (4 * PART) + b"y" * (400 << 10))  # the kernel takes ~200 KiB; berth holds the rest, under its high water
    conn.sock.close()


def _slow_caller(addr, hostport):
    if isinstance(addr, str):
        s = connect(addr, timeout=10)
    else:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(addr)
    s.sendall(f"GET http://{hostport}/cut HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
    return s


def test_a_chunked_answer_cut_while_its_caller_reads_slowly_lingers_and_closes(berth, raw_origin):
    o = raw_origin(_cut_chunked)
    b = berth()
    s = _slow_caller(b.proxy, o.hostport)
    try:
        time.sleep(3)  # the cut at once, then the linger (2 s) while the kernel still holds the answer
        assert b.proc.poll() is None, f"berth exited {b.proc.returncode}"
        data, how = read_to_end(s, limit=4 * PART, timeout=10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:100]
    assert not data.endswith(b"0\r\n\r\n"), data[-20:]  # no last chunk: the cut shows
    assert b.proc.poll() is None, f"berth exited {b.proc.returncode}"
    assert stats(b)["totals"]["errors"]["response-truncated"] == 1


def test_a_cut_answer_held_for_a_stopped_caller_is_cut_once(berth, raw_origin, tmp_path):
    """A Unix-socket caller (its kernel holds little, so berth still holds bytes when the cut is read) that reads
    nothing past the caller idle timeout."""
    o = raw_origin(_cut_length)
    b = berth("--listen", f"unix:{tmp_path}/berth.sock", "--caller-idle-timeout", "1s", "--access-log")
    s = _slow_caller(b.proxy, o.hostport)
    try:
        time.sleep(2.5)
        assert b.proc.poll() is None, f"berth exited {b.proc.returncode}"
        data, _ = read_to_end(s, timeout=10)
    finally:
        s.close()
    assert data.startswith(b"HTTP/1.1 200 "), data[:100]
    assert len(data.partition(b"\r\n\r\n")[2]) < 4 * PART
    assert stats(b)["totals"]["errors"]["response-truncated"] == 1
    logged = [line for line in b.stderr_text().splitlines() if "msg=access" in line and "/cut" in line]
    assert len(logged) == 1, logged


def test_the_drain_timeout_over_a_session_lingering_after_a_cut_exits_cleanly(berth, raw_origin):
    o = raw_origin(_cut_chunked)
    b = berth("--drain-timeout", "1s")
    s = _slow_caller(b.proxy, o.hostport)
    try:
        time.sleep(0.5)  # cut, and lingering
        os.kill(b.pid, signal.SIGTERM)
        assert b.proc.wait(timeout=10) == 0
    finally:
        s.close()
