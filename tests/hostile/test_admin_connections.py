"""Admin clients that hold connections open: the orchestrator's probe still gets an answer past the admin's share."""
import socket

from hostile_wire import connect, exchange, status_of


def test_healthz_answers_while_twenty_idle_admin_connections_are_held(berth):
    b = berth()
    held = [connect(b.admin) for _ in range(20)]
    try:
        for s in held:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for s in held[-3:]:
            assert status_of(s.recv(65536)) == 200
        # Every held connection is idle now; a fresh probe must still be answered, not refused at the share.
        got = exchange(b.admin, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert status_of(got) == 200, got[:200]
    finally:
        for s in held:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
