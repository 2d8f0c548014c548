"""Fixtures of the TLS suite: a PKI made at test time, HTTPS origins on Python's ssl, and berth with a config file."""
import pytest

from berthkit import closing_factory
from berthkit.tls_origin import TLSOrigin
from berthkit.tls_pki import PKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return PKI(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def tls_origin(pki):
    """Factory: tls_origin(cert=..., key=..., **options) -> TLSOrigin (the valid localhost certificate by default)."""
    def make(cert=None, key=None, **options):
        return TLSOrigin(cert or pki.server, key or pki.server_key, **options)

    yield from closing_factory(make)


@pytest.fixture
def berth_with(berth, tmp_path):
    """Factory: berth_with(destinations_yaml, *flags, env=None) starts berth with that `destinations:` list."""
    def start(destinations, *flags, env=None):
        conf = tmp_path / "berth.yaml"
        conf.write_text("destinations:\n" + destinations)
        return berth("--config", str(conf), *flags, env=env)
    return start
