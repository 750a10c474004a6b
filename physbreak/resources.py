"""Memory guards: refuse a run the machine cannot hold before allocating it."""

from __future__ import annotations

import os

from physbreak.errors import ResourceError


def available_memory() -> int:
    """Bytes of memory this process may use: the machine's available memory,
    or a cgroup limit if lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    total = int(line.split()[1]) * 1024
    except OSError:
        pass
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = open(limit_file).read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(needed: float, what: str):
    """Raise :class:`ResourceError` if ``needed`` bytes exceed 80 % of the available memory."""
    have = available_memory()
    if needed > 0.8 * have:
        raise ResourceError(f"{what} needs about {gib(needed)} of memory; this machine has {gib(have)} "
                            "available: use fewer or smaller systems, fewer replicas or temperatures")
