"""A second SIGTERM or SIGINT during the drain changes nothing, as a repeated graceful stop does in nginx (QUIT) and
HAProxy (soft stop): the request in flight is still served whole and berth exits 0 when it is done, not at once and
not by the signal (configuration.md, Shutdown)."""
import signal
import socket
import threading
import time

from hostile_wire import connect, header_of, read_response, status_of


def _slow_origin():
    """Answers each request after 1 s, with Content-Length."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.recv(65536)
            time.sleep(1)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nslow!")
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


def test_a_second_stop_signal_leaves_the_drain_to_end_as_it_would(start_berth):
    origin = _slow_origin()
    try:
        port = origin.getsockname()[1]
        # The origin answers after 1 s: a socket timeout of its own length would race it (libevent's timers,
        # read with CLOCK_MONOTONIC since item 146, fire on time rather than a coarse tick late).
        b = start_berth("--drain-timeout", "20s", "--socket-timeout", "5s")
        c = connect(b.proxy, timeout=10)
        c.sendall(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        time.sleep(0.2)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM, signal.SIGINT):
            b.proc.send_signal(sig)
            time.sleep(0.05)
        head, body = read_response(c)
        assert status_of(head) == 200 and body == b"slow!", head + body
        assert header_of(head, "connection") == "close", head
        c.close()
        assert b.proc.wait(10) == 0
    finally:
        origin.close()
