"""`/watch?cgroup=` through a symlink whose target's name is not UTF-8: berth resolves the link once (item 52) and
cannot name the result, so it says so, where it said "no such cgroup directory" of a directory that exists (its
name with the bytes replaced by U+FFFD)."""
import json
import os
import urllib.parse

from hostile_wire import exchange, status_of


def test_a_cgroup_whose_real_path_is_not_utf8_is_named_as_such(berth, tmp_path):
    real = os.fsencode(str(tmp_path)) + b"/cg-\xff\xfe"
    os.mkdir(real)
    with open(real + b"/cgroup.events", "wb") as f:
        f.write(b"populated 1\nfrozen 0\n")
    link = tmp_path / "link"
    os.symlink(real, os.fsencode(str(link)))
    b = berth()
    q = urllib.parse.urlencode({"upstream": "w.example:80", "cgroup": str(link)})
    got = exchange(b.admin, f"POST /watch?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    assert status_of(got) == 400, got[:300]
    message = json.loads(got.partition(b"\r\n\r\n")[2])["error"]
    assert "UTF-8" in message and "no such cgroup directory" not in message, message
