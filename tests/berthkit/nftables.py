"""nftables faults on loopback for the vanished-peer tests: a peer's connections dropped silently or reset by 'another
host', in a table of this process's own that is removed when the `with` block ends, whatever happens in it."""
import itertools
import os
import re
import shutil
import subprocess

PREFIX = "berth_test_"
_TABLE = re.compile(r"^table inet (" + PREFIX + r"(\d+)_\d+)$")
_COUNTER = itertools.count()


class NftablesUnavailable(Exception):
    """nft is missing, or this process may not add a table (it needs root and nf_tables): the caller skips."""


def nft(*args):
    """Runs `nft args...`: the CompletedProcess, output as text."""
    return subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10)


def established_client_ports(port):
    """The client ports of the connections established to `port` now, as strings."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, timeout=10).stdout
    return sorted({line.split()[-2].rsplit(":", 1)[1] for line in out.splitlines() if line.strip()})


def _remove_orphans():
    """Deletes the tables of test processes that died before their own cleanup (killed mid-test): their rules
    would drop a later run's packets on a reused port. A live process's tables are left alone."""
    for line in nft("list", "tables", "inet").stdout.splitlines():
        m = _TABLE.match(line.strip())
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            nft("delete", "table", "inet", m.group(1))


class Vanish:
    """`with Vanish() as lose:` then lose(port, how="drop"): the connections established to `port` now lose their
    peer. `drop`: every packet of them is dropped both ways (no ACK, no RST: a deleted container). `reset`: what
    berth sends on them is answered by a reset and what the old peer sends is dropped (the address taken over by a
    host that never knew them). New connections pass, but with `all` every packet to `port` is dropped, SYNs
    included, with `payload` every segment carrying data to `port`, and with `syn` only the SYNs of new connections
    (a connect that hangs while established connections carry on). The table is named by this process's PID
    (tests of several worktrees may run at once) and deleted at the block's end; raises NftablesUnavailable."""

    def __init__(self):
        if shutil.which("nft") is None:
            raise NftablesUnavailable("nft is not installed (apt-get install -y nftables)")
        _remove_orphans()
        self.table = f"{PREFIX}{os.getpid()}_{next(_COUNTER)}"
        if nft("add", "table", "inet", self.table).returncode != 0:
            raise NftablesUnavailable("cannot add an nftables table here (needs root and nf_tables)")
        r = nft("add", "chain", "inet", self.table, "input", "{ type filter hook input priority -10 ; policy accept ; }")
        if r.returncode != 0:
            self.close()
            raise NftablesUnavailable(f"cannot add an input chain: {r.stderr.strip()}")

    def _rule(self, rule):
        r = nft("add", "rule", "inet", self.table, "input", *rule.split())
        assert r.returncode == 0, r.stderr

    def lose(self, port, how="drop"):
        """Applies the fault (see the class); returns the client ports it cut off ([] for `all`, `payload` and `syn`)."""
        if how in ("all", "payload", "syn"):
            # all: the host itself gone, new connections' SYNs dropped too. payload: the handshake passes (its
            # segments are small), then every segment that carries data to `port` is lost. syn: the client's kernel
            # sends the SYN again a second later, so removing the table lets the connect finish then.
            rule = {"all": f"tcp dport {port} drop", "payload": f"tcp dport {port} ip length > 100 drop",
                    "syn": f"tcp dport {port} tcp flags & (syn | ack) == syn drop"}[how]
            self._rule(rule)
            return []
        assert how in ("drop", "reset"), how
        ports = established_client_ports(port)
        assert ports, f"no established connection to port {port}"
        ports_set = "{ " + ", ".join(ports) + " }"
        toward = "drop" if how == "drop" else "reject with tcp reset"
        # The reset the reject makes comes back through this hook from `port`: it must pass.
        back = "drop" if how == "drop" else "tcp flags and rst == 0 drop"
        self._rule(f"tcp dport {port} tcp sport {ports_set} {toward}")
        self._rule(f"tcp sport {port} tcp dport {ports_set} {back}")
        return ports

    def close(self):
        """Deletes the table and so every rule in it (idempotent)."""
        nft("delete", "table", "inet", self.table)

    def __enter__(self):
        return self.lose

    def __exit__(self, *exc):
        self.close()
        return False
