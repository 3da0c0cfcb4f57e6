"""Benchmark: the quarterly report rendered end to end from 1,000,000 synthetic responses.

Prints where the time goes:

* **fixed cost**: papermill, kernel start-up, nbconvert export and moving files into place,
  measured in the same run by rendering ``notebooks/_smoke.ipynb`` (a near-empty notebook);
* **csatkit's work**: the rest of the quarterly render (reading the file, metrics, figures,
  provenance hashing), i.e. quarterly minus fixed; its split by notebook cell comes from the
  cell durations papermill records in the executed notebook. It includes importing pandas,
  pyarrow, matplotlib and scipy.special in the kernel; what that costs alone is printed beside
  it, for reference (it is not subtracted).

Usage::

    python bench/bench_report.py                  # 1,000,000 responses
    python bench/bench_report.py --responses 200000 --repeat 3
    python bench/bench_report.py --format parquet    # the same rows from a Parquet file

Generating the data set is timed separately and not counted in the render.
"""

from __future__ import annotations

import argparse
import compileall
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import csatkit
from csatkit import report, synth

#: csatkit.synth's default model gives about 1.05 response rows per contact (three per answered
#: survey, one per unanswered one, none when no survey was sent): one contact per wanted row is
#: enough, and the extra rows are cut off.


def _make_data(n_responses: int, folder: Path, fmt: str = "csv") -> tuple[Path, int, float]:
    started = time.perf_counter()
    data = synth.generate(n_contacts=max(100, n_responses), seed=0)
    responses = data.responses.iloc[:n_responses]
    path = folder / f"responses.{fmt}"
    if fmt == "parquet":
        responses.to_parquet(path, index=False)
    else:
        responses.to_csv(path, index=False)
    return path, len(responses), time.perf_counter() - started


def _byte_compile() -> None:
    """Write csatkit's bytecode caches, as installing the package does (pip byte-compiles what it installs).

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` set (as some CI images and sandboxes
    do) would otherwise compile every csatkit module from source in each kernel, about 0.1 s that
    no installed csatkit spends.
    """
    compileall.compile_dir(Path(csatkit.__file__).parent, quiet=1)


def _timed_render(notebook: str, params: dict, out: Path, timeout: float) -> tuple[float, Path]:
    started = time.perf_counter()
    html = report.render(notebook, params, out_dir=out, timeout=timeout)
    return time.perf_counter() - started, html


#: What the quarterly notebook imports from other projects before csatkit computes anything.
_THIRD_PARTY = ("pandas", "pyarrow.parquet", "matplotlib.pyplot", "scipy.special")


def _import_cost(repeat: int = 3) -> float:
    """Seconds a fresh interpreter takes to import :data:`_THIRD_PARTY`, beyond starting up (median)."""
    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    base = statistics.median(run("pass") for _ in range(repeat))
    full = statistics.median(run("import " + ", ".join(_THIRD_PARTY)) for _ in range(repeat))
    return max(full - base, 0.0)


def _cell_times(ipynb: Path) -> list[tuple[float, str]]:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        duration = (cell.get("metadata", {}).get("papermill") or {}).get("duration")
        if cell.get("cell_type") == "code" and duration:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            lines = [ln.strip() for ln in src.splitlines() if ln.strip() and not ln.startswith(("#", "%"))]
            first = "; ".join(lines)
            out.append((float(duration), first[:70]))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000, help="response rows (default: 1,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="renders of each notebook; the median is shown")
    parser.add_argument("--period", default="2026Q3")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv",
                        help="file format of the responses (default: csv)")
    parser.add_argument("--keep", metavar="DIR", help="write the data and reports here instead of a temporary folder")
    args = parser.parse_args(argv)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="csatkit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        data, rows, t_data = _make_data(args.responses, work, args.format)
        print(f"data: {rows:,} response rows, {data.stat().st_size / 1e6:,.1f} MB {args.format}, "
              f"generated in {t_data:.1f} s")

        _byte_compile()
        _timed_render("_smoke", {}, work / "warmup", args.timeout)  # warm caches; not counted
        fixed, full = [], []
        html = None
        for _ in range(args.repeat):
            fixed.append(_timed_render("_smoke", {"label": "bench"}, work / "reports", args.timeout)[0])
            seconds, html = _timed_render("quarterly_report", {"data": str(data), "period": args.period},
                                          work / "reports", args.timeout)
            full.append(seconds)
        t_fixed, t_full = statistics.median(fixed), statistics.median(full)
        t_own = max(t_full - t_fixed, 0.0)
        # each quarterly render less the median fixed cost: how much the machine's noise moves the result
        own_runs = sorted(max(f - t_fixed, 0.0) for f in full)

        print()
        print(f"{'quarterly report, end to end':<52}{t_full:8.2f} s  100%")
        print(f"{'  fixed: papermill + kernel start + nbconvert':<52}{t_fixed:8.2f} s  {t_fixed / t_full:4.0%}")
        print(f"{'  csatkit work (difference)':<52}{t_own:8.2f} s  {t_own / t_full:4.0%}")
        if len(own_runs) > 1:
            print(f"{'    per render, fastest to slowest':<52}" + " ".join(f"{v:.2f}" for v in own_runs))
        t_imp = _import_cost()
        print("    of which importing pandas, pyarrow, matplotlib,")
        print(f"{'    scipy.special (timed alone, for reference)':<52}{t_imp:8.2f} s")
        print()
        print("slowest cells of the quarterly notebook (papermill's cell durations):")
        for seconds, first in sorted(_cell_times(html.with_suffix(".ipynb")), reverse=True)[:8]:
            print(f"  {seconds:7.2f} s  {first}")
        print(f"\nHTML: {html.stat().st_size / 1e3:,.0f} kB" + (f" at {html}" if args.keep else ""))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
