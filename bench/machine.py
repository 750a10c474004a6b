"""What a benchmark ran on: the CPU model and its SIMD extensions (a kernel's
ratio on one CPU is not a property of the code)."""

from __future__ import annotations

import platform

SIMD = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "neon", "asimd", "sve")


def cpu_description() -> str:
    """E.g. ``'AMD EPYC 9B14; SIMD: sse4_2 avx avx2 fma avx512f'`` (from /proc/cpuinfo where there is one)."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model in ("", platform.machine(), platform.processor()):
                    model = value.strip()
                if key.strip() in ("flags", "Features") and not flags:
                    have = set(value.split())
                    flags = [name for name in SIMD if name in have]
    except OSError:
        pass
    return f"{model}; SIMD: {' '.join(flags) or 'unknown'}"
