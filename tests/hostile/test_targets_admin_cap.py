"""Admin commands obey max-upstreams (targets item 3): a /pause, /resume or /watch naming a new upstream makes room
as a request does (forgetting the least recently used entry that may go) or is refused 503 too-many-upstreams, so
a flood of commands for distinct names cannot grow the table of destinations without bound."""
from berthkit import RawClient, admin, admin_json, get_req


def _names(count, first=0):
    return [f"10.9.{i // 250}.{1 + i % 250}:80" for i in range(first, first + count)]


def _known(b):
    return {u["upstream"] for u in admin_json(b, "GET", "/stats")["upstreams"]}


def _refused(r):
    return r.status == 503 and "too-many-upstreams" in r.text and "max-upstreams (4)" in r.text


def test_a_flood_of_pauses_stops_at_max_upstreams_with_503(berth):
    b = berth("--max-upstreams", "4")
    answers = [admin(b, "POST", f"/pause?upstream={u}") for u in _names(200)]
    assert [r.status for r in answers[:4]] == [200] * 4, [r.text for r in answers[:4]]
    assert all(_refused(r) for r in answers[4:]), {r.status: r.text for r in answers[4:]}
    assert _known(b) == set(_names(4))
    # A command naming an upstream already known still works at the bound.
    admin_json(b, "POST", f"/pause?upstream={_names(1)[0]}&mode=reject")
    assert admin_json(b, "POST", f"/evict?upstream={_names(1, 300)[0]}")["closed"] == 0
    assert _known(b) == set(_names(4))


def test_resume_and_watch_of_new_names_are_refused_at_the_bound(berth, tmp_path):
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 0\n")
    b = berth("--max-upstreams", "4")
    for u in _names(4):
        admin_json(b, "POST", f"/pause?upstream={u}")
    new = _names(1, 100)[0]
    r = admin(b, "POST", f"/resume?upstream={new}&prewarm=1")
    assert _refused(r), r.text
    r = admin(b, "POST", f"/watch?upstream={new}&cgroup={cgroup}")
    assert _refused(r), r.text
    assert _known(b) == set(_names(4))
    # The watch was taken back: an /unwatch finds nothing.
    assert admin_json(b, "POST", f"/unwatch?upstream={new}")["unwatched"] is False


def test_a_command_makes_room_by_forgetting_an_idle_entry_as_a_request_does(berth, origin):
    b = berth("--max-upstreams", "4")
    for u in _names(3):
        admin_json(b, "POST", f"/pause?upstream={u}")
    r = RawClient(b.proxy).request(get_req(origin.hostport, "/x"))
    assert r.status == 200, r
    # The table is full, but the origin's entry may go (nothing open to it once its connection is evicted).
    admin_json(b, "POST", f"/evict?upstream={origin.hostport}")
    new = _names(1, 100)[0]
    admin_json(b, "POST", f"/pause?upstream={new}")
    assert _known(b) == set(_names(3)) | {new}
    # A resumed upstream may be forgotten in turn.
    admin_json(b, "POST", f"/resume?upstream={new}")
    admin_json(b, "POST", f"/pause?upstream={_names(1, 101)[0]}")
    assert len(_known(b)) == 4


def test_with_two_workers_every_worker_keeps_the_bound_and_a_refused_pause_pauses_nowhere(berth, origin):
    b = berth("--workers", "2", "--max-upstreams", "4")
    answers = [admin(b, "POST", f"/pause?upstream={u}") for u in _names(20)]
    assert [r.status for r in answers[:4]] == [200] * 4, [r.text for r in answers[:4]]
    assert all(_refused(r) for r in answers[4:]), {r.status: r.text for r in answers[4:]}
    assert _known(b) == set(_names(4))
    # Each worker's table is full of paused entries: a new upstream's request is refused on either worker.
    for _ in range(4):
        r = RawClient(b.proxy).request(get_req(origin.hostport, "/x"))
        assert r.status == 503 and r.header("Berth-Error") == "too-many-upstreams", r
