"""hostile1 item 3: an absolute host name (`fn.`) must stay absolute. berth drops the trailing dot to find the
upstream's settings and pool, then resolved the dotless name, to which the resolver's search domains apply: with
`search corp.test` in resolv.conf a request for `http://fn.:P/` went to `fn.corp.test`. Run with a resolv.conf of the
test's own (a private mount namespace, so root only) naming a DNS server the test runs on loopback, which records
every name asked and answers `fn.corp.test` and `fn` with different loopback addresses."""
import os
import shutil
import socket
import struct
import threading

import pytest

from berthkit import keepalive_loop
from hostile_wire import connect, read_response, status_of

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


class FakeDNS:
    """A UDP DNS server on 127.0.0.1: A records from `answers`, NXDOMAIN for any other name, no answer at all for a
    name ending in `silent` (a slow authoritative server); `asked` lists names."""

    def __init__(self, answers, silent=None):
        self.answers = answers
        self.silent = silent
        self.asked = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                q, peer = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            txid, _flags, qd = struct.unpack("!HHH", q[:6])
            i, labels = 12, []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode())
                i += 1 + q[i]
            qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
            question = q[12:i + 5]
            name = ".".join(labels).lower()
            self.asked.append((name, qtype))
            if self.silent and name.endswith(self.silent):
                continue
            addr = self.answers.get(name)
            if addr is None:
                reply = struct.pack("!HHHHHH", txid, 0x8183, 1, 0, 0, 0) + question
            elif qtype == 1:
                rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
                reply = struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + question + rr
            else:
                reply = struct.pack("!HHHHHH", txid, 0x8180, 1, 0, 0, 0) + question
            self.sock.sendto(reply, peer)

    def close(self):
        self.stopping = True
        self.sock.close()


def dns_wrapper(tmp_path, dns):
    """The command prefix that runs berth with a resolv.conf naming `dns` (search corp.test) and a bare hosts file."""
    return _wrapper(tmp_path, dns)


def _wrapper(tmp_path, dns):
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver 127.0.0.1:{dns.port}\nsearch corp.test\noptions ndots:1\n")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    script = (f"mount --bind {conf} /etc/resolv.conf && mount --bind {hosts} /etc/hosts && exec \"$@\"")
    return ("unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh")


def _get(b, host, port):
    c = connect(b.proxy)
    try:
        c.sendall(f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        return read_response(c)
    finally:
        c.close()


def test_an_absolute_name_is_resolved_without_the_search_domains(start_berth, raw_origin, tmp_path):
    """`fn.` is the name `fn` at the root: the server never hears `fn.corp.test` for it, and the answer comes from
    the address `fn` has (127.0.0.3), not from the one the search domain gives (127.0.0.2, where nothing listens)."""
    absolute = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"absolute: fn")), host="127.0.0.3")
    port = absolute.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"fn.corp.test": "127.0.0.2", "fn": "127.0.0.3"})
    try:
        b = start_berth(wrapper=_wrapper(tmp_path, dns))
        head, body = _get(b, "fn.", port)
        assert status_of(head) == 200 and body == b"absolute: fn", (head, body, dns.asked)
        assert not any(name.endswith("corp.test") for name, _ in dns.asked), dns.asked
    finally:
        dns.close()


def test_a_relative_name_still_meets_the_search_domains(start_berth, raw_origin, tmp_path):
    """The dotless name keeps the resolver's rules (as getaddrinfo would): `fn` is tried as `fn.corp.test` first."""
    relative = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"relative: fn.corp.test")), host="127.0.0.2")
    port = relative.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"fn.corp.test": "127.0.0.2", "fn": "127.0.0.3"})
    try:
        b = start_berth(wrapper=_wrapper(tmp_path, dns))
        head, body = _get(b, "fn", port)
        assert status_of(head) == 200 and body == b"relative: fn.corp.test", (head, body, dns.asked)
    finally:
        dns.close()
