"""A VM restore and the DNS cache: a restored VM's monotonic clock skipped the whole time the snapshot slept, so a
cached answer's age is understated by all of it, and the name may now lead elsewhere (its container moved while the
VM slept). berth dropped every pooled connection at a restore but kept the cached answers for up to their TTL (at
most 300 s): new connections went on to the old address. The restore must forget them, so the next connect asks."""
import os
import shutil
import socket
import threading

import pytest

from berthkit import stats, wait_for
from e2e_helpers import send
from hostile.dns_script import ScriptedDNS, a_record, reply

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


class _Named:
    """One listener at `ip`:`port` answering every request with its own name, keep-alive."""

    def __init__(self, ip, port, name):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((ip, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.name = name.encode()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
                while b"\r\n\r\n" in data:
                    _, _, data = data.partition(b"\r\n\r\n")
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(self.name), self.name))

    def close(self):
        self.sock.close()


def _private_resolv_conf(tmp_path, dns):
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver 127.0.0.1:{dns.port}\noptions ndots:1\n")
    return ("unshare", "-m", "--propagation", "private", "sh", "-c",
            f'mount --bind {conf} /etc/resolv.conf && exec "$@"', "sh")


def test_a_restore_forgets_cached_dns_answers(berth, restore, tmp_path):
    old = _Named("127.0.0.2", 0, "old")
    new = _Named("127.0.0.3", old.port, "new")
    where = {"addr": "127.0.0.2"}

    def answer(q, name, qtype):
        if name == "svc.test" and qtype == 1:
            return reply(q, a_record(where["addr"], ttl=300), 1)
        return reply(q)

    dns = ScriptedDNS(answer)
    try:
        b = berth(wrapper=_private_resolv_conf(tmp_path, dns))
        b.wait_log("VM restore watch")
        hostport = f"svc.test:{old.port}"
        assert send(b.proxy, hostport).body == b"old"
        where["addr"] = "127.0.0.3"  # the container moved while the VM slept
        asked = len(dns.asked)
        before = stats(b)["totals"]["vm_restores"]
        restore()
        wait_for(lambda: stats(b)["totals"]["vm_restores"] > before, timeout=5, what="the restore counted")
        r = send(b.proxy, hostport)
        assert r.body == b"new", f"a new connection after the restore went to the cached address: {r}"
        assert len(dns.asked) > asked, dns.asked
    finally:
        dns.stopping = True
        old.close()
        new.close()
