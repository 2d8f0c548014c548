"""Floods of names whose DNS never answers (targets item 4): lookups their callers abandoned must not keep a name
the server answers from being looked up, whatever max-callers a reload set, and connects still resolving must not
stop pooled connections to others (root: a private resolv.conf, as test_hostile1_dns_flood)."""
import os
import shutil
import signal
import time

import pytest

from berthkit import keepalive_loop, wait_for
from hostile_wire import connect, read_response, status_of
from test_hostile1_absolute_names import FakeDNS, dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def _good(b, port):
    c = connect(b.proxy, timeout=15)
    try:
        t0 = time.monotonic()
        c.sendall(f"GET http://good.test:{port}/ HTTP/1.1\r\nHost: good.test:{port}\r\n\r\n".encode())
        head, body = read_response(c)
        return head, body, time.monotonic() - t0
    finally:
        c.close()


def test_abandoned_lookups_do_not_hold_up_the_lookup_of_another(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    try:
        b = start_berth("--connect-timeout", "1s", "--max-callers", "64", wrapper=dns_wrapper(tmp_path, dns))
        # Rounds of callers under max-callers, each naming a silent host: each gets 502 dns-failure after the
        # connect timeout (1 s), but evdns keeps asking for its name for 2 attempts of 2 s.
        n = 0
        for _ in range(4):
            held = []
            for _ in range(60):
                s = connect(b.proxy, timeout=10)
                s.sendall(f"GET http://n{n}.slow.test:{port}/ HTTP/1.1\r\nHost: n{n}.slow.test:{port}\r\n\r\n".encode())
                held.append(s)
                n += 1
            for s in held:
                head, _ = read_response(s)
                assert status_of(head) == 502, head
                s.close()
        head, body, took = _good(b, port)
        assert status_of(head) == 200 and body == b"good", (head, body, took)
    finally:
        dns.close()


def test_connects_still_resolving_leave_pooled_connections_to_others_in_use(start_berth, raw_origin, tmp_path):
    # Connects waiting on silent names hold max-total's places for up to the connect timeout, as connects to a
    # blackholed address do (a new connection elsewhere waits for a place, in line); a pooled connection to another
    # upstream needs no place and keeps serving.
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    held = []
    try:
        b = start_berth("--connect-timeout", "3s", "--max-total", "20", "--max-per-route", "20",
                        wrapper=dns_wrapper(tmp_path, dns))
        head, body, _ = _good(b, port)
        assert status_of(head) == 200, head
        for i in range(40):
            s = connect(b.proxy)
            s.sendall(f"GET http://n{i}.slow.test:{port}/ HTTP/1.1\r\nHost: n{i}.slow.test:{port}\r\n\r\n".encode())
            held.append(s)
        wait_for(lambda: sum(1 for n, _ in dns.asked if n.endswith("slow.test")) >= 20, timeout=5, what="the queries")
        head, body, took = _good(b, port)
        assert status_of(head) == 200 and body == b"good", (head, body, took)
    finally:
        for s in held:
            s.close()
        dns.close()


def test_a_reload_that_raises_max_callers_lets_as_many_lookups_fly(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    config = tmp_path / "berth.yaml"
    config.write_text("max-callers: 64\n")
    held = []
    try:
        b = start_berth("--config", str(config), "--connect-timeout", "3s", wrapper=dns_wrapper(tmp_path, dns))
        done = b.stderr_text().count("configuration reloaded")
        config.write_text("max-callers: 400\n")
        b.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: b.stderr_text().count("configuration reloaded") > done, timeout=10, what="the reload")
        # 150 callers wait on silent names: more than the 64 lookups berth let fly before the reload.
        for i in range(150):
            s = connect(b.proxy, timeout=10)
            s.sendall(f"GET http://n{i}.slow.test:{port}/ HTTP/1.1\r\nHost: n{i}.slow.test:{port}\r\n\r\n".encode())
            held.append(s)
        wait_for(lambda: sum(1 for n, _ in dns.asked if n.endswith("slow.test")) >= 64, timeout=5, what="the queries")
        head, body, took = _good(b, port)
        assert status_of(head) == 200 and body == b"good", (head, body, took)
    finally:
        for s in held:
            s.close()
        dns.close()
