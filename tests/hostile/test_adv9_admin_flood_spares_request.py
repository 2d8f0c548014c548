"""A flood of silent admin connections must not cost the orchestrator a command it already sent: past the admin's
16 connections the one silent longest makes room, but one whose request waits unread in the kernel is not silent."""
import os
import signal
import socket
import time

from berthkit import wait_for
from hostile_wire import connect, read_to_end, status_of

HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def _descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_request_accepted_in_a_burst_of_silent_connections_is_answered(berth):
    b = berth()
    base = _descriptors(b.pid)
    # The admin's share taken by connections that never send a byte (a slowloris, or abandoned clients).
    held = [connect(b.admin) for _ in range(16)]
    wait_for(lambda: _descriptors(b.pid) >= base + 16, what="the 16 silent admin connections accepted")
    # berth held still while the orchestrator's probe connects and sends, and 40 more silent connections queue
    # behind it in the backlog: on SIGCONT one accept burst takes them all, before the probe's request is read.
    b.proc.send_signal(signal.SIGSTOP)
    try:
        probe = connect(b.admin, timeout=10)
        probe.sendall(HEALTHZ)
        held += [connect(b.admin) for _ in range(40)]
        time.sleep(0.1)
    finally:
        b.proc.send_signal(signal.SIGCONT)
    try:
        data, how = read_to_end(probe, timeout=10)
        # Before: the burst's later connections made room by closing the probe (silent longest by berth's clock,
        # its request unread in the kernel): a reset, no answer.
        assert status_of(data) == 200, (data[:200], how)
        assert how == "fin", how
    finally:
        probe.close()
        for s in held:
            s.close()
    # berth serves on: a fresh probe is answered too.
    s = connect(b.admin)
    s.sendall(HEALTHZ)
    data, _ = read_to_end(s)
    s.close()
    assert status_of(data) == 200, data[:200]
