"""What an idle pooled TLS connection may receive and still be reused: whole records without data (session tickets)
only. Part of a record is the start of something berth cannot see yet, so the connection is dropped, as a plain one
is at its first byte; otherwise the next request's answer would begin with bytes sent before the request was.

The origins are raw sockets with TLS through memory BIOs (berthkit/tls_wire.py), so a test decides where records
are cut.
"""
import socket
import threading
import time

import pytest

from berthkit import RawClient, RawOrigin, get_req, upstream_stats, wait_for
from berthkit.tls_wire import TLSWire, server_context


def answer(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def ask(b, origin, path):
    c = RawClient(b.proxy, timeout=10)
    try:
        return c.request(get_req(origin.hostport, path))
    finally:
        c.close()


def destination(pki):
    return f"  - match: 127.0.0.1\n    tls: {{ca-file: \"{pki.ca}\"}}\n"


class HalfRecordOrigin:
    """Answers each connection's first request with its path, then sends the first `cut` bytes of a record holding a
    whole stale response. If a next request arrives on that connection, the rest of the record follows it."""

    def __init__(self, pki, cut, behind=False):
        self.ctx = server_context(pki.server, pki.server_key)
        self.cut = cut
        self.behind = behind  # the part goes out with the answer, in one write, rather than 0.2 s after it
        self.reused = threading.Event()
        self.origin = RawOrigin(self._serve)
        self.hostport = self.origin.hostport

    def _serve(self, conn):
        w = TLSWire(conn.sock, self.ctx)
        w.handshake()
        head = w.read_request()
        if head is None:
            return
        path = head.split(b" ")[1].split(b"/", 3)[-1]
        fresh = w.seal(answer(b"fresh /" + path))
        stale = w.seal(answer(b"stale"))
        if self.behind:
            conn.sock.sendall(fresh + stale[:self.cut])
        else:
            conn.sock.sendall(fresh)
            time.sleep(0.2)
            conn.sock.sendall(stale[:self.cut])
        conn.sock.settimeout(3)
        try:
            if w.read_request() is None:  # berth's close_notify, or its FIN
                return
        except (socket.timeout, OSError):
            return
        self.reused.set()
        conn.sock.sendall(stale[self.cut:])
        time.sleep(1)

    def close(self):
        self.origin.close()


@pytest.mark.parametrize("cut", [3, 10], ids=["in-the-header", "in-the-body"])
def test_half_a_record_on_an_idle_connection_drops_it(berth_with, pki, cut):
    origin = HalfRecordOrigin(pki, cut)
    try:
        b = berth_with(destination(pki))
        assert ask(b, origin, "/one").body == b"fresh /one"
        closed = lambda: upstream_stats(b, f"https://{origin.hostport}")["connections"]["closed"]["peer-closed-idle"]
        wait_for(lambda: closed() == 1, timeout=3, what=f"the idle connection dropped after {cut} bytes of a record")
        second = ask(b, origin, "/two")
        assert second.body == b"fresh /two", "answered with bytes sent before the request"
        assert not origin.reused.is_set()
    finally:
        origin.close()


@pytest.mark.parametrize("cut", [3, 10], ids=["in-the-header", "in-the-body"])
def test_half_a_record_behind_an_answer_is_not_taken_by_a_pipelined_request(berth_with, pki, cut):
    # The part arrives in the same read as the answer, and the caller's second request is already waiting: the
    # connection goes from one to the other in one turn, with no idle watch between them.
    origin = HalfRecordOrigin(pki, cut, behind=True)
    try:
        b = berth_with(destination(pki))
        c = RawClient(b.proxy, timeout=10)
        try:
            c.sendall(get_req(origin.hostport, "/one") + get_req(origin.hostport, "/two"))
            assert c.read_response().body == b"fresh /one"
            assert c.read_response().body == b"fresh /two", "answered with bytes sent before the request"
        finally:
            c.close()
        assert not origin.reused.is_set()
    finally:
        origin.close()


def test_a_ticket_flood_keeps_the_connection_pooled(berth_with, pki):
    # Whole records without data are not the end: 2,000 TLS 1.3 tickets behind the handshake, each replacing the
    # cached session, and the connection still reused.
    ctx = server_context(pki.server, pki.server_key, num_tickets=2000)

    def serve(conn):
        w = TLSWire(conn.sock, ctx)
        w.handshake()
        while (head := w.read_request()) is not None:
            w.send(answer(b"hello " + head.split(b" ")[1].split(b"/", 3)[-1]))

    origin = RawOrigin(serve)
    try:
        b = berth_with(destination(pki))
        for i in range(3):
            assert ask(b, origin, f"/t{i}").body == b"hello t%d" % i
        up = upstream_stats(b, f"https://{origin.hostport}")
        assert up["connections"]["opened"] == 1 and up["connections"]["reused"] == 2
    finally:
        origin.close()
