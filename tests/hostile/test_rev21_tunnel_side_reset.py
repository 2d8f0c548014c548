"""A tunnel side that resets before it finished sending ends the other side with a reset, never a FIN (rev21).

Item 162 resets both sides of a tunnel the drain timeout cuts, since a FIN is what a side that finished sends. A
side's own failure was still relayed as that FIN: an origin that reset after 1,000 bytes of a close-delimited
HTTP/1.0 answer left the caller reading those bytes and a clean end, a whole answer to it; a caller that reset in
the middle of an upload left the origin reading the upload as ended. Each now gets a reset. A side that already
sent its FIN finished that direction: its bytes still end with a FIN when it fails later."""
import socket
import struct
import time

from berthkit import open_tunnel
from hostile_wire import OneConnectionOrigin, read_to_end, read_until_end, tunnel_berth


def reset(sock):
    """Closes `sock` with a reset (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_an_origin_reset_mid_answer_resets_the_caller():
    def serve(conn, o):
        conn.recv(65536)
        conn.sendall(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 1000)
        time.sleep(0.3)
        reset(conn)

    origin = OneConnectionOrigin(serve)
    b = tunnel_berth(origin)
    try:
        caller = open_tunnel(b, origin)
        caller.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        got, how = read_to_end(caller, timeout=10)
        assert got == b"" or got.startswith(b"HTTP/1.0 200"), got[:100]
        assert how == "reset", (how, len(got))
    finally:
        b.stop()
        origin.close()


def test_a_caller_reset_mid_upload_resets_the_origin():
    origin = OneConnectionOrigin(read_until_end)
    b = tunnel_berth(origin)
    try:
        caller = open_tunnel(b, origin)
        caller.sendall(b"POST /up HTTP/1.0\r\n\r\n" + b"y" * 1000)
        time.sleep(0.5)
        reset(caller)
        assert origin.done.wait(10)
        assert origin.ended == "reset", (origin.ended, len(origin.got))
    finally:
        b.stop()
        origin.close()


def test_an_origin_that_finished_its_answer_then_reset_still_ends_it_with_a_fin():
    """The origin's FIN ended what it sends; a reset after it (the caller's bytes arriving at a closed socket) breaks
    only the other direction, so the caller still reads the whole answer and a FIN."""
    answer = b"HTTP/1.0 200 OK\r\n\r\n" + b"z" * 1000

    def serve(conn, o):
        conn.recv(65536)
        conn.sendall(answer)
        conn.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        reset(conn)

    origin = OneConnectionOrigin(serve)
    b = tunnel_berth(origin)
    try:
        caller = open_tunnel(b, origin)
        caller.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        time.sleep(0.6)
        try:
            caller.sendall(b"more")
        except OSError:
            pass
        got, how = read_to_end(caller, timeout=10)
        assert got == answer, (len(got), got[:100])
        assert how == "fin", how
    finally:
        b.stop()
        origin.close()
