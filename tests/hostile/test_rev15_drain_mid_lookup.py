"""A drain that runs out while a request's name is still being looked up (review15): since dns3 the lookup holds no
connect place and the request has not left berth, so at the drain timeout it is answered 503 `shutting-down`, as
a queued request is, never cut (its caller could not tell whether it may send it elsewhere)."""
import os
import shutil
import time

import pytest

from dns_script import ScriptedDNS, reply
from hostile_wire import connect, header_of, read_response, status_of
from test_hostile1_absolute_names import dns_wrapper

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def _silent(q, name, qtype):
    return None if name.startswith("silent") else reply(q, flags=0x8183)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_request_whose_lookup_outlasts_the_drain_is_answered(start_berth, tmp_path, method):
    dns = ScriptedDNS(_silent)
    try:
        b = start_berth("--connect-timeout", "10s", "--drain-timeout", "1s", wrapper=dns_wrapper(tmp_path, dns))
        c = connect(b.proxy, timeout=10)
        body = "Content-Length: 3\r\n\r\nabc" if method == "POST" else "\r\n"
        c.sendall(f"{method} http://silent.test:8080/ HTTP/1.1\r\nHost: silent.test:8080\r\n{body}".encode())
        deadline = time.monotonic() + 5
        while not dns.asked and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dns.asked, "the name was never asked for"
        b.proc.terminate()
        head, _ = read_response(c)
        assert status_of(head) == 503 and header_of(head, "berth-error") == "shutting-down", head
        c.close()
        assert b.proc.wait(10) == 0
    finally:
        dns.close()
