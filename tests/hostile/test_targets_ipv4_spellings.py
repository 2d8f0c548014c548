"""Other spellings of an address (targets item 2): the shorthand IPv4 forms inet_aton reads (`127.1`, `0x7f.0.0.1`,
`2130706433`, `017700000001`) are 400 bad-request, never a DNS query, and no spelling of berth's own proxy or admin
address (IPv4-mapped, zero-compressed IPv6, a trailing dot, a name) reaches it: 508 forwarding-loop."""
import pytest

from berthkit import RawClient, admin, admin_json, free_port, stats
from hostile_wire import connect, read_to_end, status_of

LOOP = "forwarding-loop"

# inet_aton reads each as 127.0.0.1 (or, for `0`, 0.0.0.0, which a connect takes to loopback): curl and glibc's
# getaddrinfo would connect there; a DNS server would be asked for a name no registry can hold.
SHORTHANDS = ["127.1", "127.0.1", "0x7f.0.0.1", "0x7f.1", "0177.0.0.1", "2130706433", "017700000001", "0x7f000001",
              "127.0.0.01", "127.1.", "0x7F.0.0.1", "0"]


def _answer(addr, host, path="/"):
    c = RawClient(addr, timeout=15)
    try:
        c.sendall(f"GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return c.read_response()
    finally:
        c.close()


def _dns_failures(b):
    return stats(b)["totals"]["errors"]["dns-failure"]


@pytest.mark.parametrize("spelling", SHORTHANDS)
def test_a_shorthand_ipv4_spelling_is_400_and_never_resolved(berth, spelling):
    b = berth("--connect-timeout", "1s")
    for port in (b.proxy[1], b.admin[1], 9):
        r = _answer(b.proxy, f"{spelling}:{port}")
        assert r.status == 400 and r.header("Berth-Error") == "bad-request", (spelling, port, r)
        assert b"dotted" in r.body, r.body
    r = _answer(b.proxy, spelling)
    assert r.status == 400 and r.header("Berth-Error") == "bad-request", (spelling, r)
    assert _dns_failures(b) == 0
    assert admin_json(b, "GET", "/stats")["upstreams"] == []


def test_names_that_only_look_numeric_still_resolve_as_names(berth):
    # inet_aton refuses these (a part past 255, five parts, a bad octal digit), so glibc and berth alike take them
    # as names: 502 dns-failure (no resolver answers here), not 400.
    b = berth("--connect-timeout", "1s")
    for host in ("1.2.3.4.5", "256.1", "08.1", "99999999999"):
        r = _answer(b.proxy, f"{host}:9")
        assert r.status in (502, 504) and r.header("Berth-Error") != "bad-request", (host, r)


def _assert_loops(b, spellings, admin=True):
    ports = (b.proxy[1], b.admin[1]) if admin else (b.proxy[1],)
    for port in ports:
        for host in spellings:
            r = _answer(b.proxy, f"{host}:{port}", "/pause?upstream=127.0.0.1:1")
            assert r.status == 508 and r.header("Berth-Error") == LOOP, (host, port, r)
    assert stats(b)["totals"]["callers_accepted"] == len(spellings) * len(ports)


def test_every_spelling_of_an_ipv4_listener_is_a_loop(berth):
    b = berth()
    _assert_loops(b, ["127.0.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]",
                      "[::FFFF:127.0.0.1]", "localhost", "localhost.", "LOCALHOST", "0.0.0.0", "[::ffff:0.0.0.0]"])


def test_every_spelling_of_an_ipv6_listener_is_a_loop(berth):
    b = berth("--listen", "[::1]:0", "--admin", f"[::1]:{free_port()}")
    _assert_loops(b, ["[::1]", "[0:0::1]", "[0:0:0:0:0:0:0:1]", "[::0:1]", "[0000::0001]", "[::]"])


def test_every_loopback_spelling_of_a_wildcard_listener_is_a_loop(berth):
    # A wildcard listener needs an allowlist (no open proxy); CIDR rules match addresses, so names are left out.
    # (A wildcard admin needs a token; the admin's own spellings are covered above.)
    b = berth("--listen", "[::]:0",
              "--allow", "127.0.0.0/8,::1/128,::/128,0.0.0.0/32,::ffff:0:0/96")
    _assert_loops(b, ["127.0.0.1", "127.0.0.2", "[::1]", "[0:0::1]", "[::ffff:127.0.0.1]", "0.0.0.0", "[::]"],
                  admin=False)


def test_the_admin_refuses_to_name_what_the_proxy_refuses(berth):
    b = berth()
    for host in ("127.1", "0x7f.0.0.1", "2130706433", "127..1"):
        r = admin(b, "POST", f"/pause?upstream={host}:80")
        assert r.status == 400 and "upstream:" in r.text, (host, r.text)
    assert admin_json(b, "GET", "/stats")["upstreams"] == []


def test_a_connect_to_a_shorthand_is_400_and_closes(berth):
    b = berth("--connect-timeout", "1s")
    for host in ("127.1", "2130706433"):
        s = connect(b.proxy, timeout=10)
        try:
            s.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            raw, how = read_to_end(s, timeout=10)
        finally:
            s.close()
        assert status_of(raw) == 400 and b"Berth-Error: bad-request" in raw and b"dotted" in raw, raw[:300]
    assert _dns_failures(b) == 0
