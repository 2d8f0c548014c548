"""GET /stats paging, sorting, search and state filter; exact totals and matches; the 400s; the whole document in slices."""
import json
import os
import socket
import struct

import jsonschema
import requests

from berthkit import admin, admin_json
from admin_helpers import DOCS, proxied

SCHEMA = json.load(open(os.path.join(DOCS, "stats.schema.json")))


def pause_many(b, ports):
    s = requests.Session()
    for p in ports:
        r = s.post(b.admin_url + f"/pause?upstream=127.0.0.1:{p}", timeout=15)
        assert r.status_code == 200, r.text
    s.close()


def names(doc):
    return [u["upstream"] for u in doc["upstreams"]]


def test_no_paging_parameter_is_the_whole_document(berth):
    b = berth()
    pause_many(b, range(20000, 20030))
    doc = admin_json(b, "GET", "/stats")
    jsonschema.validate(doc, SCHEMA)
    assert names(doc) == sorted(f"127.0.0.1:{p}" for p in range(20000, 20030))
    assert doc["matched"] == 30 == doc["totals"]["upstreams"]


def test_pages_and_exact_totals(berth):
    b = berth()
    pause_many(b, range(20000, 20030))
    whole = admin_json(b, "GET", "/stats")
    first = admin_json(b, "GET", "/stats?limit=10&offset=0")
    jsonschema.validate(first, SCHEMA)
    assert names(first) == names(whole)[:10]
    assert first["matched"] == 30
    # Every figure of the upstreams and callers; admin_loop_* count berth's own admin work, each read's included.
    def traffic(totals):
        return {k: v for k, v in totals.items() if not k.startswith("admin_loop_")}
    assert traffic(first["totals"]) == traffic(whole["totals"]), "a page carries the totals of every upstream"
    assert names(admin_json(b, "GET", "/stats?limit=10&offset=10")) == names(whole)[10:20]
    last = admin_json(b, "GET", "/stats?limit=10&offset=25")
    assert names(last) == names(whole)[25:] and last["matched"] == 30
    past = admin_json(b, "GET", "/stats?limit=10&offset=100")
    assert past["upstreams"] == [] and past["matched"] == 30
    counted = admin_json(b, "GET", "/stats?limit=0")
    assert counted["upstreams"] == [] and counted["matched"] == 30 and counted["totals"]["upstreams"] == 30
    assert names(admin_json(b, "GET", "/stats?offset=28")) == names(whole)[28:], "offset alone lists the rest"


def test_search_is_a_case_insensitive_substring_with_exact_matches(berth):
    b = berth()
    pause_many(b, range(21000, 21020))
    doc = admin_json(b, "GET", "/stats?q=%3A2100&limit=5")
    assert doc["matched"] == 10, doc["matched"]
    assert names(doc) == [f"127.0.0.1:2100{d}" for d in range(5)]
    assert admin_json(b, "GET", "/stats?q=:2101")["matched"] == 10
    assert admin_json(b, "GET", "/stats?q=LOCALHOST")["matched"] == 0
    admin_json(b, "POST", "/pause?upstream=LocalHost:81")
    hit = admin_json(b, "GET", "/stats?q=LOCALHOST")
    assert names(hit) == ["localhost:81"] and hit["matched"] == 1
    assert admin_json(b, "GET", "/stats?q=")["matched"] == 21, "an empty search matches every upstream"


def test_state_filter(berth, origin):
    b = berth()
    pause_many(b, [20001, 20002])
    assert proxied(b, origin).status_code == 200
    active = admin_json(b, "GET", "/stats?state=active")
    assert names(active) == [origin.hostport] and active["matched"] == 1
    paused = admin_json(b, "GET", "/stats?state=paused&limit=1&offset=1")
    assert names(paused) == ["127.0.0.1:20002"] and paused["matched"] == 2


def test_sort_by_figures_descending_then_by_name(berth, origin):
    b = berth("--connect-timeout", "2s")
    for _ in range(4):
        assert proxied(b, origin).status_code == 200
    # Refused ports fail with connect-refused: 3, 1 and 2 requests, each counted as a request and an error.
    for port, n in ((1, 3), (2, 1), (3, 2)):
        for _ in range(n):
            assert proxied_to(b, f"127.0.0.1:{port}").status_code == 502
    pause_many(b, [20000])
    by_requests = names(admin_json(b, "GET", "/stats?sort=requests"))
    assert by_requests == [origin.hostport, "127.0.0.1:1", "127.0.0.1:3", "127.0.0.1:2", "127.0.0.1:20000"], by_requests
    by_errors = names(admin_json(b, "GET", "/stats?sort=errors"))
    assert by_errors[:3] == ["127.0.0.1:1", "127.0.0.1:3", "127.0.0.1:2"], by_errors
    # Ties (no errors) by name.
    assert by_errors[3:] == sorted([origin.hostport, "127.0.0.1:20000"]), by_errors
    by_open = admin_json(b, "GET", "/stats?sort=open&limit=1")
    assert names(by_open) == [origin.hostport] and by_open["matched"] == 5, "the origin holds the one idle connection"
    page2 = names(admin_json(b, "GET", "/stats?sort=requests&limit=2&offset=2"))
    assert page2 == by_requests[2:4]
    assert names(admin_json(b, "GET", "/stats?sort=name")) == sorted(by_requests)
    assert names(admin_json(b, "GET", "/stats?sort=pending")) == sorted(by_requests), "no pending anywhere: by name"


def proxied_to(b, hostport):
    return requests.get(f"http://{hostport}/", proxies={"http": b.proxy_url}, timeout=20)


def test_bad_values_get_400_with_the_reason(berth):
    b = berth()
    cases = {
        "limit=-1": "limit must be an integer from 0 to 1000",
        "limit=abc": "limit must be an integer from 0 to 1000",
        "limit=1001": "limit must be an integer from 0 to 1000",
        "offset=-5": "offset must be an integer",
        "offset=1.5": "offset must be an integer",
        "sort=rate": "sort must be one of name, requests, errors, open, pending",
        "state=frozen": "state must be one of active, paused",
        "q=" + "a" * 301: "q must be at most 300 bytes",
        "q=%FF": "malformed percent-encoding in q",
        "limit=5&limit=6": "parameter limit given twice",
        "page=2": "unknown parameter \"page\"",
    }
    for query, message in cases.items():
        r = admin(b, "GET", "/stats?" + query)
        assert r.status_code == 400, (query, r.status_code, r.text)
        assert message in r.json()["error"], (query, r.json())


def test_head_matches_get_for_a_page(berth):
    b = berth()
    pause_many(b, range(20000, 20020))
    get = admin(b, "GET", "/stats?limit=5&sort=name")
    head = admin(b, "HEAD", "/stats?limit=5&sort=name")
    assert head.status_code == 200 and head.content == b""
    # The same page (uptime_seconds may differ by a digit or two between the two answers), not the whole document.
    assert abs(int(head.headers["Content-Length"]) - len(get.content)) <= 4, (head.headers, len(get.content))
    assert len(admin(b, "GET", "/stats").content) > 3 * len(get.content)


def test_whole_document_in_slices_stays_one_valid_document_in_order(berth):
    """Thousands of upstreams take many slices (a few ms each) in a debug build: the answer must still be one valid
    document, and pipelined requests behind it must be answered after it, in order."""
    b = berth()
    pause_many(b, range(20000, 23000))
    host, port = b.admin
    s = socket.create_connection((host, int(port)), timeout=30)
    req = f"GET /stats HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    health = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    s.sendall(req + health + req)
    f = s.makefile("rb")
    bodies = []
    for _ in range(3):
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 200"), status
        length = None
        while (line := f.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        bodies.append(json.loads(f.read(length)))
    s.close()
    assert bodies[1] == {"status": "ok"}
    for doc in (bodies[0], bodies[2]):
        jsonschema.validate(doc, SCHEMA)
        assert names(doc) == sorted(f"127.0.0.1:{p}" for p in range(20000, 23000))
        assert doc["matched"] == 3000


def test_clients_that_leave_mid_document_leave_berth_serving(berth, origin):
    b = berth()
    pause_many(b, range(20000, 23000))
    host, port = b.admin
    for _ in range(20):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(f"GET /stats HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        # Reset at once: berth is mid-render, and must drop the half-made document with the connection.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    assert admin_json(b, "GET", "/healthz") == {"status": "ok"}
    assert proxied(b, origin).status_code == 200
    assert admin_json(b, "GET", "/stats?limit=1")["matched"] == 3001


def test_pages_across_workers_add_up_each_upstream(berth, origin):
    """With two workers a page is picked from both workers' summaries, then its upstreams are read from both."""
    b = berth("--workers", "2")
    pause_many(b, range(20000, 20010))
    for _ in range(6):
        assert proxied(b, origin).status_code == 200
    whole = admin_json(b, "GET", "/stats")
    jsonschema.validate(whole, SCHEMA)
    page = admin_json(b, "GET", "/stats?sort=requests&limit=1")
    jsonschema.validate(page, SCHEMA)
    assert names(page) == [origin.hostport] and page["matched"] == 11
    assert page["upstreams"][0]["requests"] == 6, "both workers' shares of the upstream, added"
    assert page["upstreams"][0] == next(u for u in whole["upstreams"] if u["upstream"] == origin.hostport) | {
        k: page["upstreams"][0][k] for k in ("open", "idle", "busy", "connecting", "pending", "connections", "latency_ms")}
    assert page["totals"]["requests"] == whole["totals"]["requests"] == 6
    paused = admin_json(b, "GET", "/stats?state=paused&limit=3&offset=8")
    assert names(paused) == ["127.0.0.1:20008", "127.0.0.1:20009"] and paused["matched"] == 10
