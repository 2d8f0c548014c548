"""Helpers of the bounds tests (issue 23 items 2, 7, 10, 12, 13): berth's memory (a free port is berthkit's)."""


def proc_status(pid, field):
    """A /proc/PID/status field in KiB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")
