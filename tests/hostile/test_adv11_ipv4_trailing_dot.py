"""adv11: `127.0.0.1.` (an IPv4 literal with a trailing dot) is one more spelling of 127.0.0.1: berth's resolver,
its allow rules and curl all read it as the address, yet it made an upstream of its own, so an orchestrator's pause of
`127.0.0.1:P` before a freeze left `127.0.0.1.:P` sending to the frozen container (the class of items 33 and 152), and
a forget of `127.0.0.1.:P` forgot `127.0.0.1:P` too. Now it names the one upstream of the address, as WHATWG's URL
parser reads it."""
from berthkit import admin_json, stats
from hostile_wire import connect, header_of, read_response, status_of

# A port nothing listens on: a request that gets past the pause is refused (502), one held by it is 503.
PORT = 9


def _get(b, authority):
    c = connect(b.proxy)
    try:
        c.sendall(f"GET http://{authority}/ HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n".encode())
        return read_response(c)[0]
    finally:
        c.close()


def test_a_pause_of_an_ipv4_address_holds_its_spelling_with_a_trailing_dot(berth):
    b = berth()
    admin_json(b, "POST", f"/pause?upstream=127.0.0.1:{PORT}&mode=reject")
    raw = _get(b, f"127.0.0.1.:{PORT}")
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw
    names = [u["upstream"] for u in stats(b)["upstreams"]]
    assert names == [f"127.0.0.1:{PORT}"], names


def test_the_admin_names_the_address_without_the_dot(berth):
    b = berth()
    answer = admin_json(b, "POST", f"/pause?upstream=127.0.0.1.:{PORT}&mode=reject")
    assert answer["upstream"] == f"127.0.0.1:{PORT}", answer
    raw = _get(b, f"127.0.0.1:{PORT}")
    assert status_of(raw) == 503 and header_of(raw, "Berth-Error") == "upstream-paused", raw


def test_a_name_ending_in_a_number_and_a_dot_stays_a_name(berth):
    """Only a whole dotted quad is an address: `1.2.3.4.5.` and `a.1.` stay absolute names."""
    b = berth()
    for host in ("1.2.3.4.5.", "a.1."):
        answer = admin_json(b, "POST", f"/pause?upstream={host}:{PORT}")
        assert answer["upstream"] == f"{host}:{PORT}", answer
