"""Machine resources: memory guards (refuse a run the machine cannot hold before
allocating it) and the thread pools."""

from __future__ import annotations

import os
import sys

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


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def use_threads(threads: int) -> int:
    """Set torch's and numba's thread pools to ``threads`` (0: every core this
    process may run on, at most numba's pool) and return the number set.  The
    pools are set explicitly so that several processes on one machine do not
    oversubscribe it.  torch is not imported for this: if it is not loaded yet,
    ``OMP_NUM_THREADS`` is set, which its pool reads when it is."""
    import numba

    n = cores() if threads == 0 else threads
    n = max(1, min(n, numba.config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    else:
        os.environ["OMP_NUM_THREADS"] = str(n)
    numba.set_num_threads(n)
    return n
