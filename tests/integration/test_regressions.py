"""Regressions found by fuzzing, each named after what broke."""
import socket
import struct
import threading

import requests


def _rst_on_accept_server():
    """Accepts, reads nothing, and resets the connection: berth's first write fails mid-request."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    srv.settimeout(0.2)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return srv, stop


def test_session_fuzz_use_after_free_upstream_reset_while_sending_a_body(berth):
    """A body pump that failed used to be failed a second time, writing into a freed caller buffer (SIGSEGV)."""
    srv, stop = _rst_on_accept_server()
    port = srv.getsockname()[1]
    b = berth()
    try:
        for i in range(40):
            c = socket.create_connection(b.proxy, timeout=10)
            body = b"body" * 1024
            c.sendall(f"PUT http://127.0.0.1:{port}/r{i} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                      f"Expect: 100-continue\r\nConnection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            reply = b""
            try:
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            c.close()
            assert reply == b"" or reply.startswith(b"HTTP/1.1 502"), reply[:80]
            assert b.proc.poll() is None, f"berth died on round {i}: {b.stderr_text()[-2000:]}"
    finally:
        stop.set()
        srv.close()
    assert requests.get(f"{b.admin_url}/healthz", timeout=5).status_code == 200
