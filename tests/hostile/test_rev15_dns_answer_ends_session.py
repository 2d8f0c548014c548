"""A DNS answer that ends its caller's session (review15): the answer runs outside any event callback of berth's
(evdns's own), where the worker's keep-alive for an ending session does nothing. A failed lookup answered to a
`Connection: close` request, and a name answered while its pool refuses, end the session inside that answer."""
import os
import shutil
import time

import pytest

from berthkit import keepalive_loop
from dns_script import ScriptedDNS, a_record, reply
from hostile_wire import connect, header_of, read_response, status_of
from test_hostile1_absolute_names import dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def _late(q, name, qtype):
    """Every answer 50 ms late, so it arrives in evdns's callback, never at once: bad.test fails, the rest resolve."""
    if name.startswith("bad"):
        return (0.05, reply(q, flags=0x8183))
    return (0.05, reply(q, a_record("127.0.0.1"), 1) if qtype == 1 else reply(q))


def _ask(b, name, port, close):
    c = connect(b.proxy)
    try:
        conn = "Connection: close\r\n" if close else ""
        c.sendall(f"GET http://{name}:{port}/ HTTP/1.1\r\nHost: {name}:{port}\r\n{conn}\r\n".encode())
        return read_response(c)
    finally:
        c.close()


def test_a_failed_lookup_answered_to_a_closing_caller(start_berth, raw_origin, tmp_path):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"good")))
    port = o.hostport.rsplit(":", 1)[1]
    dns = ScriptedDNS(_late)
    try:
        b = start_berth("--connect-timeout", "2s", wrapper=dns_wrapper(tmp_path, dns))
        for i in range(20):
            # A name of its own each time: a failure is cached for a second.
            head, _ = _ask(b, f"bad{i}.test", port, close=True)
            assert status_of(head) == 502 and header_of(head, "berth-error") == "dns-failure", head
        head, body = _ask(b, "good.test", port, close=False)
        assert status_of(head) == 200 and body == b"good", head
        assert b.proc.poll() is None
    finally:
        dns.close()
