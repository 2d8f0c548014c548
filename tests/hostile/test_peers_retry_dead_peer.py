"""A retry's fresh connection is not judged by the dead-peer check its stale reused connection armed (peers probe)."""
import hashlib
import threading
import time

from berthkit import upstream_stats
from hostile_wire import connect, header_of, read_response, read_to_end, status_of

# A long first request: the reused connection has handed this many bytes to its kernel before the request that
# finds it closed, so a check of the retry's connection against that count finds "nothing acknowledged".
PAD = "p" * 8192


def stale_then(on_retry):
    """An origin whose first connection answers `/warm`, then closes unanswered the request it gets next (a server
    whose keep-alive timer fires as berth reuses the connection); a later connection runs `on_retry(conn, msg)`."""
    first = threading.Event()

    def handler(conn):
        fresh = not first.is_set()
        first.set()
        while True:
            msg = conn.read_request_head()
            if msg is None:
                return
            if fresh and msg.target.endswith("/warm"):
                conn.respond(200, b"warm")
                continue
            if fresh:
                conn.sock.close()
                return
            on_retry(conn, msg)
            return
    return handler


def warm(b, o):
    """A keep-alive caller whose first request left one idle connection with >8 KiB sent on it."""
    s = connect(b.proxy, timeout=10)
    s.sendall(f"GET http://{o.hostport}/warm HTTP/1.1\r\nHost: {o.hostport}\r\nX-Pad: {PAD}\r\n\r\n".encode())
    head, body = read_response(s)
    assert status_of(head) == 200 and body == b"warm", head
    return s


def test_a_retried_upload_still_flowing_is_not_cut_as_a_dead_peer(berth, raw_origin):
    """`replay: unread`: a POST goes out on the reused connection with half its body, and the origin closes that
    connection unread; berth sends it again on a fresh one from its replay copy. The caller sends the rest of the
    body 0.4 s later (past the 250 ms dead-peer timeout), and the fresh connection's server reads it all and answers.
    Before: each caller body byte re-armed the fresh connection's deadline from the stale connection's dead-peer
    check (1 ns: its time had passed), which then compared the fresh connection's acknowledged bytes with what the
    stale one had sent before: "none acknowledged", the fresh connection was reset mid-body and the caller got
    502 dead-peer, "acknowledged none of the request", although the server had read most of it."""
    def answer(conn, msg):
        body = conn.read_body(msg)
        conn.respond(200, hashlib.sha256(body).hexdigest().encode())

    b = berth("--replay", "unread", "--socket-timeout", "2s")
    o = raw_origin(stale_then(answer))
    s = warm(b, o)
    body = bytes(range(256)) * 8
    s.sendall(f"POST http://{o.hostport}/run HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {len(body)}\r\n\r\n"
              .encode() + body[:1000])
    time.sleep(0.4)
    s.sendall(body[1000:])
    head, got = read_response(s)
    s.close()
    assert status_of(head) == 200, (head, got)
    assert got == hashlib.sha256(body).hexdigest().encode()
    up = upstream_stats(b, o.hostport)
    assert up["retries"] == 1 and up["connections"]["closed"]["dead-peer"] == 0, up


def test_a_retried_request_the_server_read_and_left_unanswered_is_a_read_timeout(berth, raw_origin):
    """A GET is retried on a fresh connection after the reused one closed unanswered; the fresh connection's server
    reads it (its kernel acknowledges it) and never answers. The caller must get 504 read-timeout after the socket
    timeout, as for any silent server; before, the stale dead-peer check judged the fresh connection at its
    timeout and answered 502 dead-peer ("acknowledged none of the request"), which tells the caller the server
    never saw a request it did read."""
    gone = threading.Event()

    def silent(conn, msg):
        gone.wait(5)

    b = berth("--socket-timeout", "1s")
    o = raw_origin(stale_then(silent))
    try:
        s = warm(b, o)
        s.sendall(f"GET http://{o.hostport}/slow HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        raw, how = read_to_end(s, timeout=4)
        s.close()
    finally:
        gone.set()
    assert status_of(raw) == 504 and header_of(raw, "Berth-Error") == "read-timeout", raw[:300]
    assert [m.target.rsplit("/", 1)[-1] for _, m in o.requests] == ["warm", "slow", "slow"]
