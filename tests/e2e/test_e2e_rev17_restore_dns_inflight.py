"""review17: item 126's restore forgets the cached DNS answers, but a query under way at the restore was asked before
it: its answer (sent before the VM slept, or queued in the socket while it did) names where the host was, and it went
to its waiters and into the cache for its whole TTL. The restore asks such a query again: its waiters and every later
connect get today's answer, and the old answer, if it still comes, is dropped."""
import os
import shutil
import threading

import pytest

from berthkit import stats, wait_for
from e2e_helpers import send
from hostile.dns_script import ScriptedDNS, a_record, reply
from test_e2e_vanish2_restore_dns import _Named, _private_resolv_conf

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                                reason="needs root and unshare(1) for a private resolv.conf")


def test_a_lookup_under_way_at_a_restore_is_asked_again(berth, restore, tmp_path):
    old = _Named("127.0.0.2", 0, "old")
    new = _Named("127.0.0.3", old.port, "new")
    where = {"addr": "127.0.0.2"}

    def answer(q, name, qtype):
        if name == "svc.test" and qtype == 1:
            if where["addr"] == "127.0.0.2":
                # Asked before the restore: the answer is on its way for a second, long after the restore.
                return (1.0, reply(q, a_record("127.0.0.2", ttl=300), 1))
            return reply(q, a_record(where["addr"], ttl=300), 1)
        return reply(q)

    dns = ScriptedDNS(answer)
    try:
        # A connect timeout past the old answer's delay: the lookup is still waited for when that answer comes.
        b = berth("--connect-timeout", "5s", wrapper=_private_resolv_conf(tmp_path, dns))
        b.wait_log("VM restore watch")
        hostport = f"svc.test:{old.port}"
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", send(b.proxy, hostport)))
        t.start()
        wait_for(lambda: ("svc.test", 1) in dns.asked, timeout=5, what="the lookup under way")
        where["addr"] = "127.0.0.3"  # the container moved while the VM slept
        before = stats(b)["totals"]["vm_restores"]
        restore()
        wait_for(lambda: stats(b)["totals"]["vm_restores"] > before, timeout=5, what="the restore counted")
        t.join(timeout=15)
        assert out["r"].body == b"new", f"the lookup under way at the restore took the old answer: {out['r']}"
        later = send(b.proxy, hostport)
        assert later.body == b"new", f"a connect after the restore went to the old address: {later}"
        assert dns.asked.count(("svc.test", 1)) >= 2, dns.asked
    finally:
        dns.stopping = True
        old.close()
        new.close()
