"""Peak resident memory of this process.

``VmHWM`` from /proc/self/status is the high-water mark of this process image: it starts
afresh at exec. (``ru_maxrss`` does not: on Linux a child inherits its parent's peak
across fork + exec, so a small worker would report its big parent's figure.)
"""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """Peak RSS in MB since this program started."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
