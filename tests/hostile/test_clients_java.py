"""clients: Apache HttpClient 4.5 and 5.2 (Debian's), pooled and keep-alive, through berth as their forward proxy.

Each test runs the real client (tests/java/ClientProbe.java) against a scripted origin and checks what its user
would see: every answer, never an exception berth could have absorbed. Skipped, saying why, without Java or the jars.
"""
import random
import socket

import pytest

from berthkit import java_clients

pytestmark = pytest.mark.skipif(java_clients.missing() is not None, reason=str(java_clients.missing()))

CLIENTS = ["hc4", "hc5"]


def _early_413(conn):
    """Answers 413 as soon as the head is in, then reads and drops the body (nginx's lingering close)."""
    if conn.read_request_head() is None:
        return
    conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")
    conn.sock.shutdown(socket.SHUT_WR)
    conn.sock.settimeout(2)
    while conn.sock.recv(1 << 16):
        pass


def _no_continue(conn):
    """Ignores Expect (no 100 Continue): reads each whole body, then answers."""
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        conn.respond(200, b"got %d" % len(msg.body or b""))


def _idle_closer(conn):
    """Keep-alive, but closes each connection after 0-30 ms idle: a server whose keep-alive timer fires at random."""
    pause = random.Random(conn.peer[1])
    while True:
        msg = conn.read_request()
        if msg is None:
            return
        conn.respond(200, b"ok " + msg.target.encode())
        conn.sock.settimeout(pause.uniform(0, 0.03))
        try:
            if not conn.sock.recv(1, socket.MSG_PEEK):
                return
        except (socket.timeout, TimeoutError):
            return
        conn.sock.settimeout(15)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("chunked", [False, True], ids=["cl", "chunked"])
def test_a_10mib_upload_answered_early_reads_the_413(berth, raw_origin, client, chunked):
    """HttpClient without Expect writes the whole body before reading: before the fix, `Broken pipe` (berth closed
    the caller over the rest of the body after 64 KiB, a reset), where the origin alone gives it the 413."""
    o = raw_origin(_early_413)
    b = berth()
    lines = java_clients.run_client(client, b.proxy, f"http://{o.hostport}/upload/", "POST", size=10 << 20,
                                    chunked=chunked, count=3)
    assert [line.split()[0] for line in lines] == ["413"] * 3, lines


@pytest.mark.parametrize("client", CLIENTS)
def test_expect_100_continue_upload_answered_early_reads_the_413(berth, raw_origin, client):
    o = raw_origin(_early_413)
    b = berth()
    lines = java_clients.run_client(client, b.proxy, f"http://{o.hostport}/upload/", "POST", size=10 << 20,
                                    expect=True, count=3)
    assert [line.split()[0] for line in lines] == ["413"] * 3, lines


@pytest.mark.parametrize("client", CLIENTS)
def test_keep_alive_gets_to_an_origin_closing_idle_connections_all_succeed(berth, raw_origin, client):
    """berth's pool drops a connection the origin closed, and sends an idempotent GET that met a close again: the
    client's own pooled connection to berth stays good, so it sees 100 answers."""
    o = raw_origin(_idle_closer)
    b = berth()
    lines = java_clients.run_client(client, b.proxy, f"http://{o.hostport}/ka/", count=100, gap_ms=30)
    assert [line for line in lines if not line.startswith("200 ")] == [], lines


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("profile", ["same-region", "same-region-failover"])
def test_expect_100_continue_to_an_origin_that_sends_no_100(berth, raw_origin, client, profile):
    """HttpClient waits 3 s for a 100 before it sends the body; berth's socket timeout (125 ms or 1 s) came first,
    a 504, before berth sent a 100 in the origin's place."""
    o = raw_origin(_no_continue)
    b = berth(profile=profile)
    lines = java_clients.run_client(client, b.proxy, f"http://{o.hostport}/up/", "POST", size=1 << 20,
                                    expect=True, count=2)
    assert lines == ["200 - " + str(len(f"got {1 << 20}"))] * 2, lines
