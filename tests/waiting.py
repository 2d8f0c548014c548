"""Bounded polling, shared by every suite: wait_for(predicate) until it holds or its timeout runs out."""
import time


def wait_for(predicate, timeout=5.0, interval=0.02, what="condition"):
    """Poll predicate() until truthy (returns its value) or raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last value {last!r}")
