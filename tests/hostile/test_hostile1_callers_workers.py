"""hostile1 item 4: `max-callers` is a limit on the process (its descriptors are the process's), yet each worker
enforced its own share: with `--workers 2 --max-callers 4` the kernel's SO_REUSEPORT hash puts three of four callers
on one worker about five times in eight, and the third got 503 too-many-callers with only three callers in all.
As HAProxy's `maxconn`, the limit is now counted over all workers."""
import time

from berthkit import keepalive_loop, stats, wait_for
from hostile_wire import connect, get_answer_head, header_of, status_of


def test_the_caller_limit_counts_callers_over_all_workers(berth, raw_origin):
    o = raw_origin(keepalive_loop(lambda conn, msg: conn.respond(200, b"fine")))
    b = berth("--workers", "2", "--max-callers", "4", "--caller-idle-timeout", "30s")
    for round_ in range(8):
        held = []
        try:
            for i in range(4):
                s = connect(b.proxy)
                held.append(s)
                head = get_answer_head(s, o)
                assert status_of(head) == 200, (round_, i, head)
                # Mid-way through its next head, so it is busy: an idle caller would give way to the fifth.
                s.sendall(f"GET http://{o.hostport}/next HTTP/1.1\r\n".encode())
            # The fifth is past the limit, whichever worker takes it.
            time.sleep(0.2)  # the partial heads are read first
            extra = connect(b.proxy)
            head = get_answer_head(extra, o)
            extra.close()
            assert status_of(head) == 503, (round_, head)
            assert header_of(head + b"\r\n\r\n", "Berth-Error") == "too-many-callers", head
        finally:
            for s in held:
                s.close()
        # The four close: the next round starts once the workers have seen them go.
        wait_for(lambda: stats(b)["totals"]["callers"] == 0, timeout=5, what="the callers to be gone")
