"""The two sequences an AddressSanitizer build reported as heap-use-after-free (issue 21): an idle connection left in
an upstream marked to forget, and prewarms into one. Against any build; scripts/sanitize runs them against ASan's."""
import pytest

from berthkit import Origin, admin, admin_json, wait_for
from admin_helpers import Background, proxied


@pytest.fixture
def closing_origin():
    """An origin that closes a keep-alive connection after it has been idle for 0.3 s (a server's keep-alive timer)."""
    o = Origin()
    o.RequestHandlerClass = type("IdleClosingHandler", (o.RequestHandlerClass,), {"timeout": 0.3})
    yield o
    o.close()


def forgotten(b, upstream):
    return admin(b, "GET", f"/stats?upstream={upstream}").status_code == 404


def assert_clean(b):
    """berth still answers, and no sanitizer wrote a report into its stderr."""
    assert admin(b, "GET", "/healthz").status_code == 200
    assert "Sanitizer" not in b.stderr_text(), b.stderr_text()[-4000:]


def pending_forget_with_one_idle(b, origin):
    assert proxied(b, origin).status_code == 200
    doc = admin_json(b, "POST", f"/evict?upstream={origin.hostport}&idle_for=1h&forget=true")
    assert doc["closed"] == 0 and doc["forget_pending"] is True, doc


@pytest.mark.parametrize("ending", ["origin-close", "idle-timeout"])
def test_the_last_idle_connection_of_an_upstream_marked_to_forget_ends(berth, origin, closing_origin, ending):
    # The origin closes the idle connection (0.3 s), or berth's idle timeout (500 ms) does: berth closes it, and that
    # close forgets the upstream.
    b = berth("--idle-timeout", "60s" if ending == "origin-close" else "500ms")
    o = closing_origin if ending == "origin-close" else origin
    pending_forget_with_one_idle(b, o)
    wait_for(lambda: forgotten(b, o.hostport), timeout=10, what="the upstream forgotten")
    assert proxied(b, o).status_code == 200
    assert_clean(b)


def test_resume_prewarms_nothing_into_an_upstream_marked_to_forget(berth, closing_origin):
    b = berth("--idle-timeout", "60s", "--socket-timeout", "10s")
    assert proxied(b, closing_origin).status_code == 200
    slow = Background(b, closing_origin, "/sleep/1")
    wait_for(lambda: admin_json(b, "GET", f"/stats?upstream={closing_origin.hostport}")["upstreams"][0]["busy"] == 1,
             what="the slow request in flight")
    doc = admin_json(b, "POST", f"/evict?upstream={closing_origin.hostport}&forget=true")
    assert doc["forget_pending"] is True, doc
    doc = admin_json(b, "POST", f"/resume?upstream={closing_origin.hostport}&prewarm=2")
    assert doc["prewarmed"] == 0, doc
    assert slow.response().status_code == 200
    wait_for(lambda: forgotten(b, closing_origin.hostport), timeout=10, what="the upstream forgotten")
    assert_clean(b)
