"""A VM restore forgets each TLS upstream's session: every clone of one snapshot woke holding the same ticket (or
TLS 1.2 session), so each offered it, and the origin could link the clones and see pre-snapshot secrets resumed in
all of them. The restore already closes every idle connection; the next one now pays a full handshake (one per
upstream), as after a reload."""
from berthkit import wait_for
from test_tls_upstreams import get, tls_stats, trusted


def test_a_restore_makes_the_next_connection_a_full_handshake(berth_with, tls_origin, pki, restore):
    origin = tls_origin()
    b = berth_with(trusted(pki))
    b.wait_log("VM restore watch")
    assert get(b, origin, "/1").status_code == 200
    wait_for(lambda: tls_stats(b, origin)["idle"] == 1, what="the connection pooled")
    restore()
    wait_for(lambda: tls_stats(b, origin)["idle"] == 0, what="the restore closing the idle connection")
    assert get(b, origin, "/2").status_code == 200
    assert [c["resumed"] for c in origin.connections] == [False, False]
    assert tls_stats(b, origin)["tls"] == {"handshakes_full": 2, "handshakes_resumed": 0, "handshake_failures": 0}
