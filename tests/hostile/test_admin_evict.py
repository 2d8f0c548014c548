"""POST /evict?idle_for=0s on the admin port: zero is a duration, and it means every idle connection."""
import json

from hostile_wire import exchange, status_of


def test_evict_idle_for_zero_closes_every_idle_connection(berth, origin):
    b = berth()
    got = exchange(b.proxy, f"GET http://{origin.hostport}/ HTTP/1.1\r\nHost: {origin.hostport}\r\n"
                            "Connection: close\r\n\r\n".encode())
    assert status_of(got) == 200, got[:300]
    for spelling in ("0s", "0ms", "0.0s"):
        raw = exchange(b.admin, f"POST /evict?idle_for={spelling} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Connection: close\r\n\r\n".encode())
        assert status_of(raw) == 200, raw
        answer = json.loads(raw.split(b"\r\n\r\n", 1)[1])
        # The first call closes the one pooled connection, idle for next to no time; the others find none.
        assert answer == {"closed": 1 if spelling == "0s" else 0}, (spelling, answer)
    raw = exchange(b.admin, b"POST /evict?idle_for=-1s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(raw) == 400, raw
