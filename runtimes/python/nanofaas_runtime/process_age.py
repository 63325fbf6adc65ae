"""How long this process has existed, so X-Init-Duration-Ms includes interpreter start-up."""
import os
import time


def process_age_seconds(fallback_start: float) -> float:
    """Age from /proc (Linux); elsewhere the time since `fallback_start` (a time.monotonic() value)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            # Field 22 (starttime, clock ticks after boot); split after the ")" that ends the command name.
            fields = f.read().rsplit(b")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - fallback_start
