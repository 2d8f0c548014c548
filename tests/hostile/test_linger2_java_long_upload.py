"""linger2: Apache HttpClient 4.5 and 5.2 uploading 100 MiB for several seconds behind an early 413 read the 413.

HttpClient writes its whole body before it reads the answer. Through berth the rest of the body behind the origin's
413 is read and dropped while it comes (5 s between reads, 30 s in all); when that linger ended at 2 s the close over
the bytes still coming was a reset, and HttpClient failed (4.5: ClientProtocolException, 5.2: Broken pipe) instead of
reading the 413. The upload is slowed to a few seconds by a 20 ms link (`DelayedLink`): berth and the origin in the
namespace, the client outside. Skipped without Java and its jars, or without TUN and namespaces."""
import pytest

from berthkit import RawOrigin, java_clients
from berthkit.delayed_link import DelayedLink, LinkUnavailable

pytestmark = pytest.mark.skipif(java_clients.missing() is not None, reason=str(java_clients.missing()))


def _early_413(conn):
    if conn.read_request_head() is not None:
        conn.sendall(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\nConnection: close\r\n\r\ntoo large")


@pytest.fixture
def link():
    try:
        with DelayedLink(delay=0.02) as l:
            yield l
    except LinkUnavailable as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("client", ["hc4", "hc5"])
def test_a_100mib_upload_over_a_slow_link_reads_the_early_413(berth, link, client):
    with link.inside():
        o = RawOrigin(_early_413, host="127.0.0.1")
    try:
        b = berth("--listen", f"{link.peer}:0", "--allow", "127.0.0.0/8", wrapper=("ip", "netns", "exec", link.ns))
        lines = java_clients.run_client(client, b.proxy, f"http://{o.hostport}/upload/", "POST", size=100 << 20, count=2)
    finally:
        o.close()
    assert [line.split()[0] for line in lines] == ["413"] * 2, lines
