"""A relay that yields its upstream's turn and then ends from another event does not kill the pooled connection later."""
from berthkit import RawClient, keepalive_loop
from berthkit.admin import stats

# A flood of interim heads takes more than one relay turn (64 steps), so the relay yields its upstream's read. 115
# heads of 44 bytes: the first read (4 KiB) takes 93 and the relay yields; the poll before that yield runs finds the
# rest and the final answer in the socket, and that readable event's turn ends the exchange. Before the fix 60 of 60
# such exchanges lost their pooled connection (and 0 to 37 of 60 with 66 to 100 heads).
INTERIM = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 115
REQUESTS = 40


def flood_then_answer(conn, msg):
    conn.sendall(INTERIM)
    conn.respond(200, b"END")


def test_a_yield_left_behind_does_not_close_the_connection_it_returned_to_the_pool(berth, raw_origin):
    o = raw_origin(keepalive_loop(flood_then_answer))
    b = berth()
    c = RawClient(b.proxy, timeout=15)
    for i in range(REQUESTS):
        c.sendall(f"GET http://{o.hostport}/{i} HTTP/1.1\r\nHost: {o.hostport}\r\n\r\n".encode())
        r = c.read_response()
        while r.status == 103:
            r = c.read_response()
        assert (r.status, r.body) == (200, b"END"), r
    c.close()
    closed = stats(b.admin)["totals"]["connections"]["closed"]
    # The origin never closes: every request goes on the one connection. Before, the yield ran after the connection
    # went back to the pool, and its idle watch took the readable event for the origin's close (peer-closed-idle).
    assert closed.get("peer-closed-idle", 0) == 0, closed
    assert o.connections == 1
