"""A retry never goes out on a reused connection (issue 23, item 13), even one handed over from the pool's queue."""
import threading
import time

from berthkit import upstream_stats
from hostile_wire import connect, read_response, status_of





def test_a_queued_retry_is_not_handed_a_released_connection(berth, raw_origin):
    """--max-per-route 1. Caller A's request goes out on the pooled connection, which the server closes unanswered
    (stale): A's request is to be sent again on a fresh connection. Caller B queued meanwhile takes the freed slot,
    so A's retry queues behind B's connection. When B's response ends, that connection must not carry A's retry."""
    stale_closed = threading.Event()

    def handler(conn):
        while True:
            msg = conn.read_request()
            if msg is None:
                return
            if msg.target.endswith("/stale") and not stale_closed.is_set():
                time.sleep(0.5)  # B queues behind this connection meanwhile
                stale_closed.set()
                conn.sock.close()
                return
            if msg.target.endswith("/b"):
                time.sleep(0.5)  # A's retry queues behind this connection meanwhile
            conn.respond(200, msg.target.encode())

    b = berth("--max-per-route", "1")
    o = raw_origin(handler)
    a = connect(b.proxy, timeout=10)
    a.sendall(f"GET http://{o.hostport}/warm HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    assert status_of(b"".join(read_response(a))) == 200
    a.sendall(f"GET http://{o.hostport}/stale HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    time.sleep(0.2)
    c = connect(b.proxy, timeout=10)
    c.sendall(f"GET http://{o.hostport}/b HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
    rb, ra = b"".join(read_response(c)), b"".join(read_response(a))
    a.close()
    c.close()
    assert status_of(rb) == 200 and rb.endswith(b"/b"), rb
    assert status_of(ra) == 200 and ra.endswith(b"/stale"), ra
    seen = [(port, m.target.rsplit("/", 1)[-1]) for port, m in o.requests]
    assert [p for _, p in seen] == ["warm", "stale", "b", "stale"], seen
    retry_port = seen[3][0]
    assert retry_port not in {port for port, _ in seen[:3]}, (
        f"the retry of /stale went out on a connection that had already carried a request: {seen}")
    up = upstream_stats(b, o.hostport)
    assert up["retries"] == 1 and up["connections"]["closed"]["evicted"] == 1, up
