"""The access line of an answer berth still holds for its caller waits for that answer to leave, and says the cut.

An origin that sent a whole answer and closed lets berth read the answer's end while its caller has stopped reading:
the tail sits in berth's output. Its access line was written there, whole (`berth_error=-`), and the reset at the
caller's idle timeout then counted `response-truncated` in /stats: a line that claimed a whole answer the caller
never got, and a count no line explained. Now the line is written once the answer's last byte went to the kernel,
or at the cut, saying `response-truncated`; /stats counts exactly the lines that say so. An answer the caller reads
whole in the end is logged once, whole."""
import json
import socket
import threading
import time

from berthkit import stats, wait_for
from hostile_wire import read_to_end

SIZES = list(range(2_000_000, 4_200_000, 200_000))


def _origin():
    """Answers GET /<size> with a close-delimited HTTP/1.0 body of <size> bytes, then closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve(conn):
        with conn:
            head = conn.recv(65536)
            size = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
            conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * size)

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


def _truncated(b):
    return stats(b)["totals"]["errors"].get("response-truncated", 0)


def test_a_held_answer_cut_at_the_idle_timeout_is_logged_cut_and_counted_once(berth):
    listener, hostport = _origin()
    b = berth("--access-log", "--log-format", "json", "--caller-idle-timeout", "500ms")
    try:
        callers = []
        for size in SIZES:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(15)
            s.connect(b.proxy)
            s.sendall(f"GET http://{hostport}/{size} HTTP/1.0\r\nHost: {hostport}\r\n\r\n".encode())
            callers.append((size, s))
        time.sleep(2.5)
        whole = set()
        for size, s in callers:
            got, how = read_to_end(s, limit=size + 4096, timeout=15)
            s.close()
            if len(got.partition(b"\r\n\r\n")[2]) == size and how != "reset":
                whole.add(f"/{size}")
        wait_for(lambda: len(_access(b)) == len(SIZES), what="an access line per request")
        lines = {doc["target"].rsplit("/", 1)[1]: doc for doc in _access(b)}
        cut_lines = {t for t, doc in lines.items() if doc["berth_error"] == "response-truncated"}
        # Every answer the caller did not get whole says so; one it got whole does not.
        for target, doc in lines.items():
            assert (f"/{target}" in whole) == (doc["berth_error"] is None), (target, doc, sorted(whole))
            assert doc["status"] == 200, doc
        # Some answers were held (else the test proves nothing), and /stats counts exactly those lines.
        assert cut_lines, lines
        assert _truncated(b) == len(cut_lines), (_truncated(b), sorted(cut_lines))
    finally:
        listener.close()


def test_a_held_answer_read_whole_later_is_logged_whole_once(berth):
    """A slow reader that reads everything before its idle timeout gets one line, whole, nothing counted."""
    listener, hostport = _origin()
    size = 4_000_000
    b = berth("--access-log", "--log-format", "json", "--caller-idle-timeout", "5s")
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(15)
        s.connect(b.proxy)
        s.sendall(f"GET http://{hostport}/{size} HTTP/1.0\r\nHost: {hostport}\r\n\r\n".encode())
        time.sleep(1)  # the origin's end is read; berth holds the tail
        got, how = read_to_end(s, limit=size + 4096, timeout=15)
        s.close()
        assert len(got.partition(b"\r\n\r\n")[2]) == size, (len(got), how)
        wait_for(lambda: len(_access(b)) == 1, what="the access line")
        (doc,) = _access(b)
        assert doc["berth_error"] is None and doc["status"] == 200, doc
        assert _truncated(b) == 0
    finally:
        listener.close()

