"""nftables faults for the vanish probes: a peer's established connections dropped silently or reset by 'another host'."""
import shutil
import subprocess

import pytest


def nft(*args):
    return subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10)


def established_client_ports(port):
    """The client ports of the connections established to `port` now."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, timeout=10).stdout
    return sorted({line.split()[-2].rsplit(":", 1)[1] for line in out.splitlines() if line.strip()})


@pytest.fixture
def vanish():
    """vanish(port, how="drop"): the connections established to `port` now lose their peer. `drop`: every packet of
    them is dropped both ways (no ACK, no RST: a deleted container). `reset`: what berth sends on them is answered
    by a reset and what the old peer sends is dropped (the address taken over by a host that never knew them). New
    connections pass, but with `all` every packet to `port` is dropped, SYNs included, and with `payload` every
    segment carrying data to `port`. Every table is removed afterwards, whatever happens."""
    if shutil.which("nft") is None:
        pytest.skip("nft is not installed (apt-get install -y nftables)")
    table = "berth_vanish_test"
    nft("delete", "table", "inet", table)
    if nft("add", "table", "inet", table).returncode != 0:
        pytest.skip("cannot add an nftables table here (needs root and nf_tables)")
    nft("add", "chain", "inet", table, "input", "{ type filter hook input priority -10 ; policy accept ; }")

    def lose(port, how="drop"):
        if how in ("all", "payload"):
            # all: the host itself gone, new connections' SYNs dropped too. payload: the handshake passes (its
            # segments are small), then every segment that carries data to `port` is lost.
            rule = f"tcp dport {port} drop" if how == "all" else f"tcp dport {port} ip length > 100 drop"
            r = nft("add", "rule", "inet", table, "input", *rule.split())
            assert r.returncode == 0, r.stderr
            return []
        ports = established_client_ports(port)
        assert ports, f"no established connection to port {port}"
        ports_set = "{ " + ", ".join(ports) + " }"
        toward = "drop" if how == "drop" else "reject with tcp reset"
        # The reset the reject makes comes back through this hook from `port`: it must pass.
        back = "drop" if how == "drop" else "tcp flags and rst == 0 drop"
        for rule in (f"tcp dport {port} tcp sport {ports_set} {toward}", f"tcp sport {port} tcp dport {ports_set} {back}"):
            r = nft("add", "rule", "inet", table, "input", *rule.split())
            assert r.returncode == 0, r.stderr
        return ports

    try:
        yield lose
    finally:
        nft("delete", "table", "inet", table)
