"""berth stopped (SIGSTOP, a freezer, a debugger) past the socket timeout while its upstreams answered: on SIGCONT the
answers waiting in its sockets are relayed, not replaced by 504 read-timeout (the first poll after a stop returns
EINTR, and libevent then runs the timers that passed before it has looked at the sockets)."""
import signal
import socket
import threading
import time

from hostile_wire import connect, header_of, read_response, status_of

IN_FLIGHT = 5


def _origin():
    """Answers each POST 50 ms after its head and body arrived, echoing the body; keeps the connection."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def serve(conn):
        with conn:
            buf = b""
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, rest = buf.split(b"\r\n\r\n", 1)
                    n = int(header_of(head + b"\r\n\r\n", "content-length") or 0)
                    if len(rest) < n:
                        break
                    body, buf = rest[:n], rest[n:]
                    time.sleep(0.05)
                    try:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
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


def test_answers_that_arrived_while_berth_was_stopped_are_relayed(berth):
    origin = _origin()
    try:
        port = origin.getsockname()[1]
        b = berth("--socket-timeout", "1s")
        callers = [connect(b.proxy, timeout=15) for _ in range(IN_FLIGHT)]
        for i, c in enumerate(callers):
            body = b"order-%d" % i
            c.sendall(b"POST http://127.0.0.1:%d/run HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n\r\n%s"
                      % (port, port, len(body), body))
        # The requests are with the origin, which answers 50 ms later, while berth is stopped for 2 s (longer than
        # the 1 s socket timeout).
        time.sleep(0.02)
        b.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(2)
        finally:
            b.proc.send_signal(signal.SIGCONT)
        for i, c in enumerate(callers):
            head, body = read_response(c)
            # Before: 504 read-timeout for every one, the origin's 200 left unread (the POST ran, the caller was
            # told it failed).
            assert status_of(head) == 200, head
            assert body == b"order-%d" % i, body
            c.close()
    finally:
        origin.close()
