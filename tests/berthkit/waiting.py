"""The one bounded poll: wait_for(predicate) until it holds, or an AssertionError naming what was awaited."""
import time


def wait_for(predicate, timeout=5.0, interval=0.02, what="condition"):
    """Polls predicate() until it returns something truthy, and returns that. After `timeout` seconds it raises
    AssertionError naming `what` and the last value seen: the one way a wait fails."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    last = predicate()  # one look after the deadline, so a slow poll cannot miss a state reached at the end
    if last:
        return last
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value {last!r}")
