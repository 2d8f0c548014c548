"""A DNS server that answers badly (dns3): many or oversized records, CNAME and compression loops, answers for
another name, answers that come after their caller left, and thousands of names. berth must answer each request
(200 or 502 dns-failure), never hang or crash, and keep its tables bounded (root: a private resolv.conf)."""
import os
import random
import shutil
import socket
import struct
import time

import pytest

from berthkit import keepalive_loop
from dns_script import ScriptedDNS, a_record, cname_record, encode_name, question_of, reply
from hostile_wire import connect, header_of, read_response, rss_kib, status_of
from test_hostile1_absolute_names import dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def _get(b, host, port, timeout=15):
    c = connect(b.proxy, timeout=timeout)
    try:
        c.sendall(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        return read_response(c)
    finally:
        c.close()


def _hostile(q, name, qtype):
    if qtype != 1:
        return reply(q)  # no AAAA records anywhere
    if name == "many.test":  # 90 A records, a 1.5 KB datagram: evdns keeps 32; the first is the origin's
        addrs = ["127.0.0.1"] + [f"10.255.{i // 250}.{i % 250 + 1}" for i in range(89)]
        return reply(q, b"".join(a_record(a) for a in addrs), len(addrs))
    if name == "huge.test":  # 300 records, past the 1,500 bytes evdns reads
        return reply(q, b"".join(a_record("127.0.0.1") for _ in range(300)), 300)
    if name == "loop.test":  # a CNAME loop and no address
        return reply(q, cname_record("loop2.test") + cname_record("loop.test", owner=encode_name("loop2.test")), 2)
    if name == "ptrloop.test":  # a compression pointer to itself as the record's owner
        _, _, end = question_of(q)
        return reply(q, struct.pack("!H", 0xC000 | end) + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1"), 1)
    if name == "wrongq.test":  # the question section names another name
        return reply(q, a_record("127.0.0.1"), 1, question=encode_name("other.test") + struct.pack("!HH", 1, 1))
    if name == "otherowner.test":  # the record's owner is another name; evdns reads owners of no record
        return reply(q, a_record("127.0.0.1", owner=encode_name("other.test")), 1)
    if name == "servfail.test":
        return reply(q, flags=0x8182)
    if name == "truncated.test":  # TC set: evdns does not retry over TCP
        return reply(q, a_record("127.0.0.1"), 1, flags=0x8380)
    if name == "garbage.test":
        return q[:2] + b"\x81\x80\x00\x01\x00\x05"
    return reply(q, flags=0x8183)


CASES = [
    ("many.test", 200), ("huge.test", 200), ("loop.test", 502), ("ptrloop.test", 502), ("wrongq.test", 502),
    ("otherowner.test", 200), ("servfail.test", 502), ("truncated.test", 502), ("garbage.test", 502),
]


def test_bad_answers_are_a_dns_failure_or_an_address(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = ScriptedDNS(_hostile)
    try:
        b = start_berth("--connect-timeout", "2s", wrapper=dns_wrapper(tmp_path, dns))
        for name, want in CASES:
            head, body = _get(b, name, port)
            assert status_of(head) == want, (name, head)
            if want == 502:
                assert header_of(head, "berth-error") == "dns-failure", (name, head)
        assert b.proc.poll() is None
    finally:
        dns.close()


def test_late_answers_racing_callers_that_leave(start_berth, raw_origin, tmp_path):
    # Answers come 0.2 to 0.6 s late while callers leave at random around them: nothing is connected for a caller
    # gone, and a name the server answers at once is served after the storm.
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    rnd = random.Random(3)

    def late(q, name, qtype):
        if name == "good.test":
            return reply(q, a_record("127.0.0.1"), 1) if qtype == 1 else reply(q)
        data = reply(q, a_record("127.0.0.1"), 1) if qtype == 1 else reply(q)
        return (0.2 + rnd.random() * 0.4, data)

    dns = ScriptedDNS(late)
    try:
        b = start_berth("--connect-timeout", "2s", wrapper=dns_wrapper(tmp_path, dns))
        for round_ in range(3):
            held = []
            for i in range(80):
                s = connect(b.proxy)
                name = f"r{round_}n{i % 20}.slow.test"  # 4 callers a name: some leave, some stay
                s.sendall(f"GET http://{name}:{port}/ HTTP/1.1\r\nHost: {name}:{port}\r\n\r\n".encode())
                held.append(s)
            deadline = time.monotonic() + 0.8
            for s in held:
                time.sleep(max(0.0, min(rnd.random() * 0.01, deadline - time.monotonic())))
                if rnd.random() < 0.5:
                    s.close()
                else:
                    head, _ = read_response(s)
                    assert status_of(head) == 200, head
                    s.close()
        head, body = _get(b, "good.test", port)
        assert status_of(head) == 200 and body == b"good", head
    finally:
        dns.close()


def test_thousands_of_names_keep_the_tables_bounded(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = ScriptedDNS(lambda q, name, qtype: reply(q, a_record("127.0.0.1"), 1) if qtype == 1 else reply(q))
    try:
        b = start_berth("--connect-timeout", "2s", "--max-upstreams", "64", wrapper=dns_wrapper(tmp_path, dns))
        c = connect(b.proxy, timeout=15)
        rss = []
        for i in range(3000):
            name = f"d{i}.many.test"
            c.sendall(f"GET http://{name}:{port}/ HTTP/1.1\r\nHost: {name}:{port}\r\n\r\n".encode())
            head, body = read_response(c)
            assert status_of(head) in (200, 503), head
            if i in (999, 2999):
                rss.append(rss_kib(b.proc.pid))
        c.close()
        # 64 upstreams and 64 cached names at most: the second 2,000 names cost what the first 1,000 left.
        assert rss[1] - rss[0] < 4096, rss
    finally:
        dns.close()


def _to_self(q, name, qtype):
    if name == "zero.test":
        return reply(q, a_record("0.0.0.0"), 1) if qtype == 1 else reply(q)
    if name == "mapped.test":  # no A record; an AAAA for berth's own address, mapped
        if qtype == 1:
            return reply(q)
        data = socket.inet_pton(socket.AF_INET6, "::ffff:127.0.0.1")
        return reply(q, b"\xc0\x0c" + struct.pack("!HHIH", 28, 1, 60, 16) + data, 1)
    return reply(q, flags=0x8183)


def test_answers_naming_berth_itself_are_a_loop(start_berth, tmp_path):
    # 0.0.0.0 reaches the host's own listeners, and ::ffff:127.0.0.1 is 127.0.0.1: both name berth's listener.
    dns = ScriptedDNS(_to_self)
    try:
        b = start_berth("--connect-timeout", "2s", wrapper=dns_wrapper(tmp_path, dns))
        port = b.proxy[1]
        for name in ("zero.test", "mapped.test"):
            head, _ = _get(b, name, port)
            assert status_of(head) == 508 and header_of(head, "berth-error") == "forwarding-loop", (name, head)
    finally:
        dns.close()
