"""Review 10: a bounded storm over abandoned DNS lookups (item 66): a DNS server that answers after 0-1.5 s, with a
1 s connect timeout, so answers race the cancels (an answer already queued when its last waiter leaves, a cancel
after it, a new waiter for the name in between), names shared by several callers, names with no A record (the
AAAA query that follows), callers that leave early; then every name still resolves. Root: a private resolv.conf.
Run against an ASan build it is review 10's probe."""
import os
import random
import shutil
import signal
import socket
import struct
import threading
import time

import pytest

from berthkit import keepalive_loop, run_threads, stats, wait_for
from hostile_wire import connect, read_response, status_of
from test_hostile1_absolute_names import dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


class LateDNS:
    """A UDP DNS server on 127.0.0.1 answering each query after a random 0-1.5 s: an A record for names starting
    with 'a', an empty answer (no A, no AAAA) for the others; `asked` counts queries."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.asked = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.timers = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                q, peer = self.sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            self.asked += 1
            txid = struct.unpack("!H", q[:2])[0]
            i, labels = 12, []
            while q[i]:
                labels.append(q[i + 1:i + 1 + q[i]].decode())
                i += 1 + q[i]
            qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
            question = q[12:i + 5]
            if labels[0].startswith("a") and qtype == 1:
                rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 1, 4) + socket.inet_aton("127.0.0.1")
                reply = struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + question + rr
            else:
                reply = struct.pack("!HHHHHH", txid, 0x8180, 1, 0, 0, 0) + question
            t = threading.Timer(self.rng.random() * 1.5, self._send, (reply, peer))
            t.daemon = True
            t.start()

    def _send(self, reply, peer):
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def close(self):
        self.stopping = True
        self.sock.close()


def _caller(b, port, seconds, rng, bad):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        name = f"{rng.choice('ab')}{rng.randrange(12)}.storm.test"
        try:
            s = connect(b.proxy, timeout=5)
        except OSError:
            continue
        try:
            s.sendall(f"GET http://{name}:{port}/ HTTP/1.1\r\nHost: {name}:{port}\r\n\r\n".encode())
            if rng.random() < 0.4:
                time.sleep(rng.random() * 1.2)  # leaves before, at or after the answer
                continue
            head, _ = read_response(s)
            if status_of(head) not in (200, 502):
                bad.append((name, head))
        except OSError:
            pass
        finally:
            s.close()


def test_lookups_abandoned_while_their_answers_arrive_leave_the_resolver_whole(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"ok")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = LateDNS(10)
    try:
        config = tmp_path / "berth.yaml"
        config.write_text("max-callers: 5000\n")
        b = start_berth("--config", str(config), "--connect-timeout", "1s", "--workers", "2",
                        wrapper=dns_wrapper(tmp_path, dns))
        bad = []
        rng = random.Random(10)
        jobs = [lambda s=rng.randrange(1 << 30): _caller(b, port, 10, random.Random(s), bad) for _ in range(24)]
        # Reloads meanwhile set the limit of queries in flight again, lower and higher (evdns moves the queries it
        # has to a new table of slots each time).
        def reload(limit):
            time.sleep(2)
            config.write_text(f"max-callers: {limit}\n")
            os.kill(b.pid, signal.SIGHUP)
        jobs.append(lambda: [reload(limit) for limit in (64, 5000, 64, 2000)])
        failed = [r for r in run_threads(jobs, timeout=60) if isinstance(r, Exception)]
        assert not failed and not bad, (failed, bad[:5])
        assert dns.asked > 50, dns.asked
        assert len(b.wait_log("configuration reloaded")) == 4
        # Afterwards a name that resolves is served (the cache's answer or a new lookup), on either worker.
        for i in range(4):
            s = connect(b.proxy, timeout=10)
            s.sendall(f"GET http://a{i}.storm.test:{port}/ HTTP/1.1\r\nHost: a{i}.storm.test:{port}\r\n\r\n".encode())
            head, body = read_response(s)
            s.close()
            assert status_of(head) in (200, 502), head
        wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=10, what="callers back to 0")
    finally:
        dns.close()
