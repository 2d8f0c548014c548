"""rev22, of item 176: a caller that pipelined a second request and resets while the tail of its first, keep-alive
answer still waits in berth's output.

The answer's end was read from the origin, so the exchange ended and the session went idle with the tail owed
(`OwedTail`); a pipelined head waits for that tail, so with one buffered the session stopped reading the caller. The
reset made the next write fail, the write event reported it as the output's end, and the session went on waiting for
the tail to leave: read no more, it noticed nothing until the caller idle timeout (a minute by default), holding the
caller's descriptor and slot, and the answer's access line, all that time. Now a caller whose write failed with a
tail owed closes at once, its line saying `response-truncated`.

rev23: a caller of the same run whose answer was still being relayed when it reset (berth had not read its end)
left mid-answer: its line says `caller-aborted`, as a reset seen by a read does, where it said `response-truncated`
too; /stats counts each cause as the lines say."""
import datetime
import json
import socket
import struct
import threading
import time

from berthkit import stats, wait_for

SIZES = list(range(2_000_000, 4_400_000, 100_000))


def _origin():
    """Answers GET /<size> with <size> bytes (Content-Length, keep-alive), one thread per connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve(conn):
        with conn:
            head = conn.recv(65536)
            size = int(head.split(b" ")[1].rsplit(b"/", 1)[1])
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"z" * size)
                conn.recv(1)
            except OSError:
                pass

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
    return {int(doc["target"].rsplit("/", 1)[1]): doc for doc in
            (json.loads(line) for line in b.stderr_text().splitlines() if line.startswith("{"))
            if doc.get("msg") == "access"}


def _when(doc):
    return datetime.datetime.strptime(doc["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def test_a_caller_reset_with_its_tail_owed_closes_now(berth):
    listener, hostport = _origin()
    b = berth("--access-log", "--log-format", "json", "--caller-idle-timeout", "12s")
    try:
        callers = []
        for size in SIZES:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(b.proxy)
            # A second request pipelined behind the first: it waits in berth's input for the first answer's tail.
            s.sendall(f"GET http://{hostport}/{size} HTTP/1.1\r\nHost: {hostport}\r\n\r\n".encode() * 2)
            callers.append(s)
        time.sleep(2.5)
        early = set(_access(b))
        reset_at = time.time()
        for s in callers:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        wait_for(lambda: set(_access(b)) == set(SIZES), timeout=20, what="a line per first request")
        # The answers berth had read whole but not handed on yet (the tail owed) are logged cut, at the reset, not
        # at the idle timeout 12 s later.
        owed = {size: doc for size, doc in _access(b).items() if size not in early and doc["bytes_out"] > size}
        assert owed, "no answer was owed when the callers reset: the test proves nothing"
        for size, doc in owed.items():
            assert doc["berth_error"] == "response-truncated" and doc["status"] == 200, doc
            assert _when(doc) - reset_at < 3, (size, _when(doc) - reset_at, doc)
        # An answer still being relayed when its caller reset: the caller left mid-answer.
        for size, doc in _access(b).items():
            if size not in early and doc["bytes_out"] <= size:
                assert doc["berth_error"] == "caller-aborted" and doc["status"] == 200, doc
        errors = stats(b)["totals"]["errors"]
        said = [doc["berth_error"] for doc in _access(b).values()]
        assert errors.get("response-truncated") == said.count("response-truncated"), (errors, said)
        assert errors.get("caller-aborted") == said.count("caller-aborted"), (errors, said)
    finally:
        listener.close()
