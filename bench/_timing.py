"""Shared timing helper for the benchmarks: best of several runs (the machines are noisy)."""

import time


def best_of(fn, repeat: int = 3) -> float:
    """The shortest wall-clock time of ``repeat`` calls of ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
