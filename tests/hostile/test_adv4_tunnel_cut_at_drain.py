"""A tunnel the drain timeout cuts is reset on both sides, never ended as if its peer had finished (adv4).

At a SIGTERM's drain timeout berth closes what is still open. A CONNECT tunnel was ended with a FIN each way, which
is what a peer that finished sends: the caller read a close-delimited answer from inside the tunnel (an HTTP/1.0
body, or one over TLS to a client that takes a missing close_notify for an end, as Python's ssl does by default)
cut at 1,000 bytes as whole, and the origin read the caller's upload as ended. berth cut it, as item 160 resets a
response it cuts: both sides now get a reset."""
import signal
import socket
import threading
import time

from berthkit import Berth, open_tunnel
from hostile_wire import read_to_end


class HoldingOrigin:
    """Accepts one connection, reads the request, sends `answer` and holds; `ended` says how its read ended."""

    def __init__(self, answer):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port = self.listener.getsockname()[1]
        self.hostport = f"127.0.0.1:{self.port}"
        self.ended = None
        self.done = threading.Event()

        def serve():
            conn, _ = self.listener.accept()
            conn.settimeout(20)
            try:
                conn.recv(65536)
                conn.sendall(answer)
                while conn.recv(65536):
                    pass
                self.ended = "fin"
            except ConnectionResetError:
                self.ended = "reset"
            except OSError as e:
                self.ended = repr(e)
            finally:
                conn.close()
                self.done.set()

        threading.Thread(target=serve, daemon=True).start()

    def close(self):
        self.listener.close()


def test_a_tunnel_cut_by_the_drain_timeout_is_reset_both_ways():
    origin = HoldingOrigin(b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * 1000)
    b = Berth(["--profile", "same-region-failover", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0",
               "--connect-port", str(origin.port), "--drain-timeout", "1s", "--caller-idle-timeout", "30s"])
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
