"""Signals an operator copies from nginx or a log rotator: SIGUSR1/SIGUSR2 (nginx's reopen-logs and upgrade) must not
kill berth, which writes its logs to stdout/stderr only, and SIGQUIT (nginx's graceful stop) drains as SIGTERM does
instead of dumping core with the accepted requests cut (configuration.md, Shutdown)."""
import signal
import socket
import threading
import time

from hostile_wire import connect, header_of, read_response, status_of


def _origin(delay):
    """Answers each request after `delay` seconds, with Content-Length, and keeps the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve(conn):
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                time.sleep(delay)
                try:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                except OSError:
                    return

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener


def _get(b, port):
    c = connect(b.proxy, timeout=10)
    try:
        c.sendall(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        return read_response(c)
    finally:
        c.close()


def test_usr1_and_usr2_leave_berth_serving(start_berth):
    origin = _origin(0)
    try:
        port = origin.getsockname()[1]
        b = start_berth()
        head, body = _get(b, port)
        assert status_of(head) == 200, head
        for sig in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGUSR1, signal.SIGUSR2):
            b.proc.send_signal(sig)
            time.sleep(0.05)
        time.sleep(0.2)
        assert b.proc.poll() is None, f"berth ended by a stray signal: {b.proc.returncode}"
        head, body = _get(b, port)
        assert status_of(head) == 200 and body == b"hello", head + body
    finally:
        origin.close()


def test_quit_drains_as_term_does(start_berth):
    origin = _origin(0.5)
    try:
        port = origin.getsockname()[1]
        b = start_berth("--drain-timeout", "20s")
        c = connect(b.proxy, timeout=10)
        c.sendall(f"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        time.sleep(0.2)
        b.proc.send_signal(signal.SIGQUIT)
        head, body = read_response(c)
        assert status_of(head) == 200 and body == b"hello", head + body
        assert header_of(head, "connection") == "close", head
        c.close()
        assert b.proc.wait(10) == 0
    finally:
        origin.close()
