"""berth's /stats as the integration tests read it: the whole document, one upstream's entry, waiting for a state."""
import json
import urllib.request

from waiting import wait_for


def get_stats(berth, timeout=5):
    with urllib.request.urlopen(f"{berth.admin_url}/stats", timeout=timeout) as resp:
        return json.loads(resp.read())


def upstream_stats(berth, hostport):
    for up in get_stats(berth)["upstreams"]:
        if up["upstream"] == hostport:
            return up
    return None


def wait_upstream(berth, hostport, predicate, timeout=5.0, what="upstream stats"):
    """Wait until upstream_stats(...) exists and predicate(stats) holds; returns the stats."""
    holder = {}

    def check():
        up = upstream_stats(berth, hostport)
        holder["last"] = up
        return up if (up is not None and predicate(up)) else None

    try:
        return wait_for(check, timeout=timeout, what=what)
    except AssertionError:
        raise AssertionError(f"timed out waiting for {what}; last stats: {json.dumps(holder.get('last'))}")
