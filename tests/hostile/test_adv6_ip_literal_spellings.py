"""adv6: an IP literal has many spellings (`[::1]`, `[0::1]`, `[0:0:0:0:0:0:0:1]`, and `[::ffff:127.0.0.1]` for
127.0.0.1 itself), and the caller picks one. Each spelling made an upstream of its own, so an orchestrator that
paused `[::1]:P` (or `127.0.0.1:P`) before freezing the container behind it left `[0::1]:P` (or
`[::ffff:127.0.0.1]:P`) sending to the frozen container, and /stats listed one address under several names (the
class of item 33, for `fn` and `fn.`). Now an IP literal names its upstream in one canonical form: IPv6 as RFC 5952
writes it, an IPv4-mapped address as the IPv4 address it maps."""
import socket

import pytest

from berthkit import admin_json, stats
from hostile_wire import connect, header_of, read_response, status_of


def _get(b, authority):
    c = connect(b.proxy)
    try:
        c.sendall(f"GET http://{authority}/ HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
        return read_response(c)[0]
    finally:
        c.close()


def _ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


# A port nothing listens on: a request that gets past the pause is refused (502), one held by it is 503.
PORT = 9


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
@pytest.mark.parametrize("spelling", ["[0::1]", "[0:0:0:0:0:0:0:1]", "[::0:1]", "[0000::0001]", "[::0.0.0.1]"])
def test_a_pause_of_an_ipv6_address_holds_every_spelling_of_it(berth, spelling):
    b = berth()
    answer = admin_json(b, "POST", f"/pause?upstream=[::1]:{PORT}&mode=reject")
    assert answer["upstream"] == f"[::1]:{PORT}", answer
    raw = _get(b, f"{spelling}:{PORT}")
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw
    names = [u["upstream"] for u in stats(b)["upstreams"]]
    assert names == [f"[::1]:{PORT}"], names


@pytest.mark.parametrize("spelling", ["[::ffff:127.0.0.1]", "[::FFFF:7f00:1]", "[0:0:0:0:0:ffff:127.0.0.1]"])
def test_a_pause_of_an_ipv4_address_holds_its_ipv4_mapped_spellings(berth, spelling):
    b = berth()
    admin_json(b, "POST", f"/pause?upstream=127.0.0.1:{PORT}&mode=reject")
    raw = _get(b, f"{spelling}:{PORT}")
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw
    names = [u["upstream"] for u in stats(b)["upstreams"]]
    assert names == [f"127.0.0.1:{PORT}"], names


def test_the_admin_names_an_upstream_by_its_canonical_spelling(berth):
    b = berth()
    answer = admin_json(b, "POST", f"/pause?upstream=[::ffff:7f00:1]:{PORT}&mode=reject")
    assert answer["upstream"] == f"127.0.0.1:{PORT}", answer
    answer = admin_json(b, "POST", f"/pause?upstream=[0:0::0:1]:{PORT}&mode=reject")
    assert answer["upstream"] == f"[::1]:{PORT}", answer
