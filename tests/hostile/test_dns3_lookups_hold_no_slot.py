"""Names whose DNS never answers must not fill max-total while their lookups run (dns3): a request that needs a new
connection to a literal or a name its server answers at once was queued behind connects still resolving, and got
503 pool-timeout when its acquire timeout ran out first. A lookup now takes no connect place until it answers, as
nginx resolves before it opens an upstream connection (root: a private resolv.conf, as test_hostile1_dns_flood)."""
import os
import shutil
import time

import pytest

from berthkit import keepalive_loop, upstream_stats, wait_for
from dns_script import ScriptedDNS, a_record, reply
from hostile_wire import connect, header_of, read_response, status_of
from test_hostile1_absolute_names import FakeDNS, dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def _get(b, host, port):
    c = connect(b.proxy, timeout=15)
    try:
        c.sendall(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        return read_response(c)
    finally:
        c.close()


def _flood(b, port, n):
    held = []
    for i in range(n):
        s = connect(b.proxy, timeout=15)
        s.sendall(f"GET http://n{i}.slow.test:{port}/ HTTP/1.1\r\nHost: n{i}.slow.test:{port}\r\n\r\n".encode())
        held.append(s)
    return held


@pytest.mark.parametrize("good", ["127.0.0.1", "good.test"])
def test_silent_names_leave_max_total_to_a_new_connection(start_berth, raw_origin, tmp_path, good):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    held = []
    try:
        # The acquire timeout (1 s) runs out before any connect to a silent name gives up (3 s): a request queued
        # for a place behind them is a 503 every time, where the profiles' equal timeouts made it 1 run in 3.
        b = start_berth("--connect-timeout", "3s", "--acquire-timeout", "1s", "--max-total", "20",
                        "--max-per-route", "20", wrapper=dns_wrapper(tmp_path, dns))
        held = _flood(b, port, 40)
        wait_for(lambda: len({n for n, _ in dns.asked if n.endswith("slow.test")}) >= 20, timeout=5, what="the queries")
        head, body = _get(b, good, port)
        assert status_of(head) == 200 and body == b"good", head
        # The silent names still fail as before: 502 dns-failure once the connect timeout ends their lookup.
        for s in held[:5]:
            head, _ = read_response(s)
            assert status_of(head) == 502 and header_of(head, "berth-error") == "dns-failure", head
    finally:
        for s in held:
            s.close()
        dns.close()


def test_a_name_that_fails_at_once_is_answered_without_a_connect(start_berth, raw_origin, tmp_path):
    # NXDOMAIN comes back at once: 502 dns-failure, and the request never took a place to give back.
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"})
    try:
        b = start_berth("--connect-timeout", "3s", "--max-total", "1", "--max-per-route", "1", wrapper=dns_wrapper(tmp_path, dns))
        head, _ = _get(b, "missing.test", port)
        assert status_of(head) == 502 and header_of(head, "berth-error") == "dns-failure", head
        head, body = _get(b, "good.test", port)
        assert status_of(head) == 200 and body == b"good", head
    finally:
        dns.close()


def test_silent_names_leave_max_upstreams_to_a_new_upstream(start_berth, raw_origin, tmp_path):
    # An upstream whose only request is still looking its name up holds no connection, so it may be forgotten to
    # make room: silent names alone cannot fill max-upstreams against a name that resolves.
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    held = []
    try:
        b = start_berth("--connect-timeout", "3s", "--max-upstreams", "16", wrapper=dns_wrapper(tmp_path, dns))
        held = _flood(b, port, 40)
        wait_for(lambda: len({n for n, _ in dns.asked if n.endswith("slow.test")}) >= 16, timeout=5, what="the queries")
        head, body = _get(b, "good.test", port)
        assert status_of(head) == 200 and body == b"good", head
    finally:
        for s in held:
            s.close()
        dns.close()


def test_a_burst_to_a_new_name_reuses_its_connections(start_berth, raw_origin, tmp_path):
    # 30 requests at once to a name answered 0.3 s late, 5 connections a route: those that looked the name up and
    # then wait for a place take a released connection, as any request does; none forces a fresh one (a slot taken
    # from an idle connection, counted closed.evicted), which only a retry or a CONNECT needs.
    o = raw_origin(keepalive_loop(lambda conn, msg: (time.sleep(0.05), conn.respond(200, b"good"))))
    port = o.hostport.rsplit(":", 1)[1]
    dns = ScriptedDNS(lambda q, name, qtype: (0.3, reply(q, a_record("127.0.0.1"), 1) if qtype == 1 else reply(q)))
    try:
        b = start_berth("--connect-timeout", "3s", "--max-per-route", "5", wrapper=dns_wrapper(tmp_path, dns))
        held = []
        for _ in range(30):
            s = connect(b.proxy, timeout=15)
            s.sendall(f"GET http://burst.test:{port}/ HTTP/1.1\r\nHost: burst.test:{port}\r\n\r\n".encode())
            held.append(s)
        for s in held:
            head, _ = read_response(s)
            assert status_of(head) == 200, head
            s.close()
        up = upstream_stats(b.admin, f"burst.test:{port}")
        assert up["connections"]["opened"] <= 5 and up["connections"]["closed"]["evicted"] == 0, up["connections"]
    finally:
        dns.close()
