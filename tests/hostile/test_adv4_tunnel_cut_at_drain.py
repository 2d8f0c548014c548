"""A tunnel the drain timeout cuts is reset on both sides, never ended as if its peer had finished (adv4).

At a SIGTERM's drain timeout berth closes what is still open. A CONNECT tunnel was ended with a FIN each way, which
is what a peer that finished sends: the caller read a close-delimited answer from inside the tunnel (an HTTP/1.0
body, or one over TLS to a client that takes a missing close_notify for an end, as Python's ssl does by default)
cut at 1,000 bytes as whole, and the origin read the caller's upload as ended. berth cut it, as item 160 resets a
response it cuts: both sides now get a reset."""
import signal
import time

from berthkit import open_tunnel
from hostile_wire import OneConnectionOrigin, read_to_end, read_until_end, tunnel_berth


def holding(answer):
    """Reads the request, sends `answer` and holds, reading until the connection ends (how: `ended`)."""
    def serve(conn, o):
        try:
            conn.recv(65536)
            conn.sendall(answer)
        except OSError as e:
            o.ended = "reset" if isinstance(e, ConnectionResetError) else repr(e)
            return conn.close()
        read_until_end(conn, o)
    return serve


def test_a_tunnel_cut_by_the_drain_timeout_is_reset_both_ways():
    origin = OneConnectionOrigin(holding(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 1000))
    b = tunnel_berth(origin, "--drain-timeout", "1s", "--caller-idle-timeout", "30s")
    try:
        caller = open_tunnel(b, origin)
        caller.sendall(f"GET /x HTTP/1.0\r\nHost: {origin.hostport}\r\n\r\n".encode())
        time.sleep(0.5)
        b.proc.send_signal(signal.SIGTERM)
        got, how = read_to_end(caller, timeout=10)
        assert got.startswith(b"HTTP/1.0 200"), got[:100]
        assert how == "reset", (how, len(got))
        assert origin.done.wait(10)
        assert origin.ended == "reset", origin.ended
        assert b.proc.wait(10) == 0
    finally:
        b.stop()
        origin.close()
