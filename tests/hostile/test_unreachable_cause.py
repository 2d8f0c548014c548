"""A destination no route reaches is `connect-unreachable`, not a refusal the origin never made.

berth runs in a network namespace of its own with only its loopback up (`unshare -n`), callers and admin over Unix
sockets, so a connect to any other address fails with ENETUNREACH inside connect(2) (IPv6 too: with loopback down it
would be EADDRNOTAVAIL, no source address). Named `connect-refused` before, which
sends an operator to the origin's listener when the fault is the route (an ENETUNREACH from a deleted network, a
missing route in a pod)."""
import os
import shutil
import socket

import pytest

from berthkit.admin import stats

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"),
                                reason="a network namespace of its own needs root, unshare(1) and ip(8)")


# `sh -c SCRIPT BINARY ARGS...`: $0 is berth's binary, "$@" its flags.
_OWN_NETNS = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']


def _get(path, target):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(f"GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    finally:
        s.close()
    head = data.split(b"\r\n\r\n", 1)[0].decode()
    fields = dict(line.split(": ", 1) for line in head.split("\r\n")[1:])
    return int(head.split(" ", 2)[1]), fields.get("Berth-Error")


def test_an_unreachable_network_is_named_as_such(berth, tmp_path):
    proxy, admin = str(tmp_path / "proxy.sock"), str(tmp_path / "admin.sock")
    b = berth("--listen", f"unix:{proxy}", "--admin", f"unix:{admin}", wrapper=_OWN_NETNS)
    assert _get(b.proxy, "10.255.255.1:80") == (502, "connect-unreachable")
    assert _get(b.proxy, "[2001:db8::1]:80") == (502, "connect-unreachable")
    errors = stats(b.admin)["totals"]["errors"]
    assert errors["connect-unreachable"] == 2 and errors["connect-refused"] == 0, errors
