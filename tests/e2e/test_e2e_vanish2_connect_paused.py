"""A request whose connect was under way when its upstream was paused (by /pause or by the freezer watch) is held,
not sent, when the connect finishes during the pause: a frozen container's kernel completes the TCP handshake, so
the request used to sit unread in its socket until the thaw, cut at the socket timeout (504, and a POST the server
then ran after the thaw), where every request that arrived a moment later was held and served. The connect is
delayed by dropping the first SYN (nftables: the kernel sends it again a second later)."""
import threading
import time

from berthkit import admin, upstream_stats, wait_for
from berthkit.nftables import NftablesUnavailable, Vanish
from e2e_helpers import send
import pytest


class _Counting:
    """A keep-alive origin that answers each request with its target and records the targets it read, with when."""

    def __init__(self, raw_origin):
        self.seen = []

        def handler(conn):
            while True:
                msg = conn.read_request()
                if msg is None:
                    return
                self.seen.append((msg.target, time.monotonic()))
                conn.respond(200, msg.target.encode())

        self.raw = raw_origin(handler)
        self.hostport, self.port = self.raw.hostport, self.raw.port


def _faults():
    try:
        return Vanish()
    except NftablesUnavailable as e:
        pytest.skip(str(e))


def _set_frozen(events, frozen):
    events.write_text(f"populated 1\nfrozen {1 if frozen else 0}\n")


@pytest.mark.parametrize("mode", ["hold", "reject", "watch"])
def test_a_connect_finished_during_a_pause_does_not_send_its_request(berth, raw_origin, mode, tmp_path):
    b = berth("--connect-timeout", "5s", "--acquire-timeout", "10s", "--socket-timeout", "3s")
    o = _Counting(raw_origin)
    # The freezer watch over a stand-in cgroup directory (inotify reports its writes as cgroupfs's).
    events = tmp_path / "cgroup.events"
    _set_frozen(events, False)
    if mode == "watch":
        assert admin(b, "POST", f"/watch?upstream={o.hostport}&cgroup={tmp_path}").status == 200
    out = {}
    with _faults() as lose:
        lose(o.port, "syn")
        t = threading.Thread(target=lambda: out.setdefault("r", send(b.proxy, o.hostport, method="POST", path="/p",
                                                                     body=b"x", timeout=20)))
        t.start()
        wait_for(lambda: (upstream_stats(b, o.hostport) or {}).get("connecting") == 1, timeout=5, what="the connect under way")
        if mode == "watch":
            _set_frozen(events, True)
            wait_for(lambda: upstream_stats(b, o.hostport).get("paused_by") == "watch", timeout=5, what="the watch's pause")
        else:
            assert admin(b, "POST", f"/pause?upstream={o.hostport}&mode={mode}").status == 200
    # The SYN goes again about a second after the first: the connect finishes while the upstream is paused.
    wait_for(lambda: upstream_stats(b, o.hostport)["connecting"] == 0, timeout=5, what="the connect done")
    time.sleep(0.3)
    assert o.seen == [], "the request went to the paused upstream"
    if mode == "reject":
        t.join(5)
        assert out["r"].status == 503 and out["r"].headers.get("berth-error") == "upstream-paused", out
        return
    assert upstream_stats(b, o.hostport)["pending"] == 1, upstream_stats(b, o.hostport)
    resumed = time.monotonic()
    if mode == "watch":
        _set_frozen(events, False)
    else:
        assert admin(b, "POST", f"/resume?upstream={o.hostport}").status == 200
    t.join(10)
    assert out["r"].status == 200 and out["r"].body == b"/p", out
    assert [target for target, _ in o.seen] == ["/p"] and o.seen[0][1] >= resumed, o.seen
