"""review5: a request body that arrives while its request waits for a connection (held by a pause, queued at the
limit, or connecting) is read under the relay's flow control. Before: berth read it all into memory while the request
waited: 400 MiB sent in 0.5 s grew berth's RSS by 400 MiB, one caller (a pause holds up to 24 h). After: berth stops
reading the caller above its high-water mark, and reads on once the request goes out."""
import threading
import time

from berthkit import admin, keepalive_loop, stats, wait_for
from hostile_wire import connect, read_to_end, status_of, rss_kib

BODY = 32 << 20


def _rss_mib(pid):
    return rss_kib(pid) // 1024


def test_body_of_a_held_request_is_not_read_ahead_unbounded(berth, raw_origin):
    def count_body(conn, msg):
        conn.respond(200, b"got %d" % len(msg.body or b""))

    o = raw_origin(keepalive_loop(count_body))
    # A long socket timeout: the test's sender and origin share one Python process on a busy machine.
    b = berth("--socket-timeout", "30s")
    assert admin(b.admin, "POST", f"/pause?upstream={o.hostport}&hold=60s").status == 200
    rss_before = _rss_mib(b.pid)
    s = connect(b.proxy, timeout=30)
    sent = [0]

    def send_body():
        s.sendall(f"POST http://{o.hostport}/up HTTP/1.1\r\nHost: {o.hostport}\r\nContent-Length: {BODY}\r\n\r\n".encode())
        piece = b"x" * (1 << 20)
        while sent[0] < BODY:
            sent[0] += s.send(piece[:BODY - sent[0]])

    t = threading.Thread(target=send_body, daemon=True)
    t.start()
    try:
        wait_for(lambda: stats(b, upstream=o.hostport)["upstreams"][0]["pending"] == 1, timeout=10,
                 what="the request to wait in the paused upstream's queue")
        # The sender stalls once berth stops reading (or finishes: the failure). At most 10 s of looking.
        last, deadline = -1, time.monotonic() + 10
        while time.monotonic() < deadline and sent[0] != last and sent[0] < BODY:
            last = sent[0]
            time.sleep(0.5)
        taken = sent[0]
        grown = _rss_mib(b.pid) - rss_before
        assert taken < 16 << 20, f"berth took {taken >> 20} MiB of the body while the request was held"
        assert grown < 32, f"berth's RSS grew {grown} MiB while the request was held"
        # Released, the request goes out whole: berth reads the rest as the origin takes it.
        assert admin(b.admin, "POST", f"/resume?upstream={o.hostport}").status == 200
        t.join(30)
        assert not t.is_alive()
        s.shutdown(1)
        data, how = read_to_end(s, timeout=30)
    finally:
        s.close()
    assert status_of(data) == 200, data[:300]
    assert data.endswith(b"got %d" % BODY), data[-100:]
