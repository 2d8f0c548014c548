"""A caller that leaves before its answer ended gets an access line and a count saying so: `caller-aborted`.

A caller that reset its connection halfway through a large streaming answer (before berth read the answer's end) got
no access line at all and no count: the request vanished from the log, while nginx logs 499 and HAProxy a `CD`
termination state. Now its line carries the status the upstream sent (what the caller got), the bytes relayed so
far, and `berth_error=caller-aborted`, and /stats counts `caller-aborted` once, as the line says. A caller that
leaves before any answer came gets the line too, with nginx's 499."""
import json
import socket
import struct
import threading
import time

from berthkit import stats, wait_for


def _streaming_origin(stop, head=True, chunks=None):
    """Answers each request with a chunked 200 whose chunks keep coming (4 KiB every 10 ms) until `stop` is set;
    or, with head=False, with nothing at all until then; with `chunks`, sends that many and then nothing more."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve(conn):
        with conn:
            conn.recv(65536)
            try:
                if head:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                sent = 0
                while not stop.is_set():
                    if head and (chunks is None or sent < chunks):
                        conn.sendall(b"1000\r\n" + b"s" * 4096 + b"\r\n")
                        sent += 1
                    time.sleep(0.01)
            except OSError:
                return

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, f"127.0.0.1:{listener.getsockname()[1]}"


def _access(b):
    return [json.loads(line) for line in b.stderr_text().splitlines()
            if line.startswith("{") and json.loads(line).get("msg") == "access"]


def _reset(s):
    """Closes `s` with a reset (SO_LINGER 0), as a killed client's kernel would."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def test_a_caller_reset_mid_answer_gets_a_line_and_a_count(berth):
    stop = threading.Event()
    listener, hostport = _streaming_origin(stop)
    b = berth("--access-log", "--log-format", "json")
    try:
        s = socket.create_connection(b.proxy, timeout=10)
        s.sendall(f"GET http://{hostport}/stream HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        got = b""
        while len(got) < 64 * 1024:
            chunk = s.recv(65536)
            assert chunk, got[:200]
            got += chunk
        assert got.startswith(b"HTTP/1.1 200"), got[:200]
        _reset(s)
        wait_for(lambda: len(_access(b)) == 1, what="the aborted request's access line")
        (doc,) = _access(b)
        assert doc["status"] == 200, doc
        assert doc["berth_error"] == "caller-aborted", doc
        assert doc["bytes_out"] >= 64 * 1024, doc
        totals = stats(b)["totals"]["errors"]
        assert totals.get("caller-aborted") == 1, totals
        assert totals.get("response-truncated") == 0, totals
        # berth carries on: the next caller is served and logged as before.
        time.sleep(0.2)
        assert len(_access(b)) == 1, _access(b)
    finally:
        stop.set()
        listener.close()


def test_a_caller_reset_before_the_answer_gets_a_499_line(berth):
    stop = threading.Event()
    listener, hostport = _streaming_origin(stop, head=False)
    b = berth("--access-log", "--log-format", "json")
    try:
        s = socket.create_connection(b.proxy, timeout=10)
        s.sendall(f"GET http://{hostport}/silent HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        time.sleep(0.3)  # routed and sent: berth waits for the answer's head
        _reset(s)
        wait_for(lambda: len(_access(b)) == 1, what="the aborted request's access line")
        (doc,) = _access(b)
        assert doc["status"] == 499 and doc["berth_error"] == "caller-aborted", doc
        assert stats(b)["totals"]["errors"].get("caller-aborted") == 1
    finally:
        stop.set()
        listener.close()


def test_a_caller_that_closes_mid_answer_gets_a_line_once_berth_sees_it_gone(berth):
    """A plain close (FIN) mid-answer, as a client's read timeout does: berth relays on (a FIN alone may be a
    half-close), the caller's kernel resets the next bytes, and the line says `caller-aborted`."""
    stop = threading.Event()
    listener, hostport = _streaming_origin(stop)
    b = berth("--access-log", "--log-format", "json")
    try:
        s = socket.create_connection(b.proxy, timeout=10)
        s.sendall(f"GET http://{hostport}/stream HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        s.close()
        wait_for(lambda: len(_access(b)) == 1, what="the closed caller's access line")
        (doc,) = _access(b)
        assert doc["status"] == 200 and doc["berth_error"] == "caller-aborted", doc
        assert stats(b)["totals"]["errors"].get("caller-aborted") == 1
    finally:
        stop.set()
        listener.close()


def test_a_caller_reset_mid_answer_with_nothing_to_write_is_seen_by_the_read(berth):
    """rev23: the three ways berth sees a caller leave mid-answer say the same. Here the origin paused after 16
    chunks and the caller took them all: berth writes nothing, so only the caller's read event sees the reset (the
    streaming test above is most often seen by the relay's flush, test_rev22_reset_mid_download by the write event)."""
    stop = threading.Event()
    listener, hostport = _streaming_origin(stop, chunks=16)
    b = berth("--access-log", "--log-format", "json")
    try:
        s = socket.create_connection(b.proxy, timeout=10)
        s.sendall(f"GET http://{hostport}/stream HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode())
        got = b""
        while got.count(b"\r\n1000\r\n") < 15 or not got.endswith(b"s" * 4096 + b"\r\n"):
            chunk = s.recv(65536)
            assert chunk, got[:200]
            got += chunk
        time.sleep(0.2)
        _reset(s)
        wait_for(lambda: len(_access(b)) == 1, what="the aborted request's access line")
        (doc,) = _access(b)
        assert doc["status"] == 200 and doc["berth_error"] == "caller-aborted", doc
        totals = stats(b)["totals"]["errors"]
        assert totals.get("caller-aborted") == 1 and totals.get("response-truncated") == 0, totals
    finally:
        stop.set()
        listener.close()
