"""/resume?prewarm=N while the freezer watch still holds the upstream (its cgroup frozen): the resume only lets go of
the API's hold, so the upstream stays paused, and no connection may be opened to the frozen container (each would be
closed `paused` the moment it was up, and `prewarmed` would promise connections that do not exist). Probed in
vanish2; berth already started none."""
import socket
import threading
import time

from berthkit import admin, admin_json, upstream_stats


class _Listener:
    """A listener that counts the connections made to it and never answers (a frozen container's kernel accepts)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.hostport = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self.sock.close()


def test_prewarm_opens_nothing_while_the_watch_holds_the_upstream(berth, tmp_path):
    cgroup = tmp_path / "cg"
    cgroup.mkdir()
    (cgroup / "cgroup.events").write_text("populated 1\nfrozen 1\n")
    origin = _Listener()
    try:
        b = berth("--workers", "2")
        got = admin_json(b, "POST", f"/watch?upstream={origin.hostport}&cgroup={cgroup}")
        assert got["paused_by"] == "watch", got
        r = admin_json(b, "POST", f"/resume?upstream={origin.hostport}&prewarm=4")
        assert r["state"] == "paused" and r["paused_by"] == "watch", r
        time.sleep(0.5)
        assert r["prewarmed"] == 0 and origin.accepted == 0, (r, origin.accepted)
        assert upstream_stats(b, origin.hostport)["connections"]["opened"] == 0
    finally:
        origin.close()
