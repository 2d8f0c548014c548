"""Shared pytest fixtures: start the built berth binary and small origin servers on loopback."""
import pytest

from berthkit import Berth, BERTH_BIN, Origin, RawOrigin, closing_factory
from berthkit.nftables import NftablesUnavailable, Vanish
from berthkit.vm_restore import raise_restore, restore_unavailable


@pytest.fixture
def start_berth():
    """Factory: start_berth(*flags, env=None) -> Berth; every instance is stopped at teardown. Without --listen in
    the flags berth listens on `listen` (None: berth's default); `binary`, `popen_kw` and `cwd` go to Berth."""
    def start(*args, env=None, profile="same-region-failover", listen="127.0.0.1:0", **process):
        flags = list(args)
        if "--profile" not in flags and profile:
            flags = ["--profile", profile] + flags
        if "--listen" not in flags and listen:
            flags += ["--listen", listen]
        if "--admin" not in flags:
            flags += ["--admin", "127.0.0.1:0"]
        return Berth(flags, env=env, **process)

    yield from closing_factory(start, close=lambda b: b.stop())


@pytest.fixture
def berth(start_berth):
    """start_berth that prints each instance's stderr tail at teardown (pytest shows it when a test fails).
    The instances started so far are in `berth.made`, for suites that check more at teardown (tests/e2e); the
    binary is `berth.binary`."""
    made = []

    def make(*flags, **kw):
        b = start_berth(*flags, **kw)
        made.append(b)
        return b

    make.made = made
    make.binary = BERTH_BIN
    yield make
    for b in made:
        lines = b.stderr_text().splitlines()
        print(f"---- berth {b.args[1:]} stderr (last 80 of {len(lines)} lines) ----")
        print("\n".join(lines[-80:]))


@pytest.fixture
def raw_origin():
    """Factory: raw_origin(handler, host='127.0.0.1') -> RawOrigin (tests/berthkit/raw_origin.py) running
    handler(conn) per accepted connection; all closed at teardown. Shared by the integration and e2e suites."""
    yield from closing_factory(RawOrigin)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()



@pytest.fixture
def vanish():
    """vanish(port, how="drop"): the connections established to `port` now lose their peer (berthkit/nftables.py
    says each `how`); the nftables table is removed at teardown, whatever happens. Skips without nft or root."""
    try:
        faults = Vanish()
    except NftablesUnavailable as e:
        pytest.skip(str(e))
    with faults as lose:
        yield lose


@pytest.fixture
def restore():
    """restore(): raises one synthetic VM generation change, as the kernel would on a snapshot restore; skips where
    no vmgenid device or no root."""
    why = restore_unavailable()
    if why:
        pytest.skip(why)
    return raise_restore
