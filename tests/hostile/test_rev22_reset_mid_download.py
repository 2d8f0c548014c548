"""rev22: a caller that resets in the middle of a large download, while berth waits for it to take what it holds.

The caller stopped reading (a download cancelled, a client that gave up), berth's output to it passed high water
and the relay stopped reading the origin; then the caller reset. The next write failed, and the write event
reported it as the output's end, but the relay only looks at how much output is left, which the failure did not
change: it went on waiting for the caller to drain, and the session read nothing from the caller that would have
shown the reset. Until `caller-idle-timeout` (a minute by default) the caller's descriptor and slot, the upstream
connection and its slot in max-per-route were held, and the answer's access line waited. Now a write failure the
write event reports ends the session as a read failure does (`callerAborted`).

rev23: the line and the count say `caller-aborted`, as for a reset seen by a read or by the relay's flush: the
origin's answer was still being relayed (berth had not read its end), so the caller left mid-answer. It said
`response-truncated`, the cause of an answer berth held whole whose tail was cut (item 176)."""
import datetime
import json
import socket
import struct
import time

from berthkit import stats, wait_for


def _access(b):
    return [doc for doc in (json.loads(line) for line in b.stderr_text().splitlines() if line.startswith("{"))
            if doc.get("msg") == "access"]


def _when(doc):
    return datetime.datetime.strptime(doc["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def test_a_caller_reset_mid_download_ends_the_exchange_now(berth, origin):
    b = berth("--access-log", "--log-format", "json", "--caller-idle-timeout", "12s")
    size = 24_000_000
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(b.proxy)
    s.sendall(f"GET http://{origin.hostport}/bytes/{size} HTTP/1.1\r\nHost: {origin.hostport}\r\n\r\n".encode())
    time.sleep(2)
    assert _access(b) == [], _access(b)
    reset_at = time.time()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    wait_for(lambda: len(_access(b)) == 1, timeout=20, what="the access line")
    (doc,) = _access(b)
    assert doc["status"] == 200 and doc["bytes_out"] < size, doc
    assert doc["berth_error"] == "caller-aborted", doc
    errors = stats(b)["totals"]["errors"]
    assert errors.get("caller-aborted") == 1 and errors.get("response-truncated") == 0, errors
    # Ended at the reset, not at the idle timeout 12 s later.
    assert _when(doc) - reset_at < 3, (_when(doc) - reset_at, doc)
