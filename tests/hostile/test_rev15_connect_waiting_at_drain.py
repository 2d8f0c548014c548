"""A CONNECT still waiting for its connection when SIGTERM arrives is answered 503 `shutting-down` at once, as
configuration.md's Shutdown says (a tunnel has no end a drain could wait for): review15 found it answered only at
the drain timeout, whether it waited in its pool's queue or for its name's lookup (dns3)."""
import os
import shutil
import socket
import threading
import time

import pytest

from dns_script import ScriptedDNS
from hostile_wire import connect, header_of, read_response, status_of
from test_hostile1_absolute_names import dns_wrapper

DRAIN = 5.0


def _answer_after_sigterm(b, c):
    """The answer `c` reads after berth gets SIGTERM, and how long it took."""
    started = time.monotonic()
    b.proc.terminate()
    head, _ = read_response(c)
    return head, time.monotonic() - started


def test_a_connect_queued_behind_max_per_route_is_answered_when_the_drain_begins(start_berth):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        b = start_berth("--connect-port", str(port), "--max-per-route", "1", "--workers", "1",
                        "--acquire-timeout", "20s", "--drain-timeout", f"{DRAIN}s")
        tunnel = connect(b.proxy, timeout=10)
        tunnel.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert tunnel.recv(12) == b"HTTP/1.1 200"
        c = connect(b.proxy, timeout=10)
        c.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        time.sleep(0.3)  # queued behind the open tunnel
        head, took = _answer_after_sigterm(b, c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        assert took < DRAIN / 2, f"answered {took:.1f} s after SIGTERM: at the drain timeout, not when it began"
    finally:
        listener.close()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="needs root and unshare(1) for a private resolv.conf")
def test_a_connect_waiting_for_its_name_is_answered_when_the_drain_begins(start_berth, tmp_path):
    dns = ScriptedDNS(lambda q, name, qtype: None)
    try:
        b = start_berth("--connect-timeout", "20s", "--drain-timeout", f"{DRAIN}s", wrapper=dns_wrapper(tmp_path, dns))
        c = connect(b.proxy, timeout=10)
        c.sendall(b"CONNECT silent.test:443 HTTP/1.1\r\nHost: silent.test:443\r\n\r\n")
        deadline = time.monotonic() + 5
        while not dns.asked and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dns.asked, "the name was never asked for"
        head, took = _answer_after_sigterm(b, c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        assert took < DRAIN / 2, f"answered {took:.1f} s after SIGTERM: at the drain timeout, not when it began"
    finally:
        dns.close()
