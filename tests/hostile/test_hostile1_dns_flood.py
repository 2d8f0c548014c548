"""hostile1 (floods of distinct destinations): evdns sends at most 64 queries at once and queues the rest in order.
Callers that name many distinct hosts whose DNS never answers (a slow authoritative server they control) filled
those 64 places, and every other new name waited behind them: `good.test`, answered at once by the server, got
502 dns-failure after the connect timeout. berth now lets as many queries fly as it may have callers, so a name's
lookup never queues behind strangers' (root: a private resolv.conf, as test_hostile1_absolute_names)."""
import os
import shutil
import time

import pytest

from berthkit import keepalive_loop
from hostile_wire import connect, read_response, status_of
from test_hostile1_absolute_names import FakeDNS, dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def test_silent_names_do_not_hold_up_the_lookup_of_another(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = FakeDNS({"good.test": "127.0.0.1"}, silent=".slow.test")
    held = []
    try:
        b = start_berth("--connect-timeout", "3s", wrapper=dns_wrapper(tmp_path, dns))
        for i in range(150):
            s = connect(b.proxy)
            s.sendall(f"GET http://n{i}.slow.test:{port}/ HTTP/1.1\r\nHost: n{i}.slow.test:{port}\r\n\r\n".encode())
            held.append(s)
        deadline = time.monotonic() + 5
        while sum(1 for n, _ in dns.asked if n.endswith("slow.test")) < 64 and time.monotonic() < deadline:
            time.sleep(0.05)
        c = connect(b.proxy)
        c.sendall(f"GET http://good.test:{port}/ HTTP/1.1\r\nHost: good.test:{port}\r\n\r\n".encode())
        head, body = read_response(c)
        c.close()
        assert status_of(head) == 200 and body == b"good", (head, body)
    finally:
        for s in held:
            s.close()
        dns.close()
