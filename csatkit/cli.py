"""The ``csatkit`` command.

.. code-block:: text

    csatkit demo                                    render the demo report and print its path
    csatkit validate FILE [--scale S] [--preset P] [--dayfirst] [--strict]
    csatkit metrics FILE [--by channel,quarter] [--metric csat|nps|ces|mean] [--period 2026Q3]
    csatkit report quarterly --data FILE --period 2026Q3 [--target 80] [--compare-to 2026Q2]
    csatkit report quarterly --data FILE --periods 2025Q1:2026Q3
    csatkit report monthly --data FILE --period 2026-09
    csatkit report run NOTEBOOK -p NAME VALUE ...
    csatkit report params NOTEBOOK                  list a notebook's parameters
    csatkit report index                            rebuild reports/index.html

Every command has ``--help``. Bad input ends the command with exit status 1 and one line on
stderr, ``csatkit: error: ...``; ``--debug`` shows the traceback instead. Usage errors (an
unknown option) exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .exceptions import CsatkitError, InputError, ParameterError

__all__ = ["main", "build_parser"]

_METRICS = {"csat": "csat", "nps": "nps", "ces": "ces", "mean": "mean_score"}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and a pointer to ``--help``) instead of the usage block."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


# --------------------------------------------------------------------------------------------
# commands


def _cmd_demo(args) -> int:
    from . import report

    data = report.resolve_data("")
    print(f"demo data: {data}", file=sys.stderr)
    params = {"data": str(data), "period": args.period}
    path = report.render("quarterly_report", params, out_dir=args.out, timeout=args.timeout,
                         mask=False if args.no_mask else None)
    print(path)
    return 0


def _read(args):
    from .load import read_responses

    kw = {}
    for key in ("scale", "preset"):
        if getattr(args, key, None):
            kw[key] = getattr(args, key)
    if getattr(args, "dayfirst", False):
        kw["dayfirst"] = True
    if getattr(args, "strict", False):
        kw["strict"] = True
    return read_responses(Path(args.file), **kw)


def _cmd_validate(args) -> int:
    loaded = _read(args)
    print(loaded.ledger.summary())
    return 0


def _cmd_metrics(args) -> int:
    import pandas as pd

    from . import metrics
    from ._validate import check_choice

    check_choice("metric", args.metric, list(_METRICS))
    data, ledger = _read(args)
    name = Path(args.file).name
    if ledger.rows_excluded:
        print(f"{name}: {ledger.rows_read:,} rows read, {ledger.rows_excluded:,} excluded "
              f"(`csatkit validate {args.file}` lists why)", file=sys.stderr)
    if args.period:
        from .periods import filter_period

        timed = data["interaction_at"].notna()
        if not timed.any():
            raise InputError(f"{name} has no interaction_at timestamps, so --period {args.period} cannot select rows; "
                             "map the date column with a preset or drop --period.")
        if not timed.all():
            print(f"{name}: {int((~timed).sum()):,} rows without interaction_at left out by --period",
                  file=sys.stderr)
        data = filter_period(data, args.period, fy_start=args.fy_start)
    func = getattr(metrics, _METRICS[args.metric])
    kw = {"level": args.level, "fy_start": args.fy_start}
    if args.scale:
        kw["scale"] = args.scale
    table = func(data, _split(args.by) or None, **kw)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(table.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    return 0


def _collect_params(args, mapping: dict) -> dict:
    """Parameters from dedicated options (only those given) and repeated ``-p NAME VALUE``."""
    params = {}
    for option, name in mapping.items():
        value = getattr(args, option, None)
        if value is not None:
            params[name] = value
    for name, value in args.param or []:
        if name in params and params[name] != value:
            raise ParameterError(f"Parameter {name!r} is given twice, as {params[name]!r} and {value!r}.")
        params[name] = value
    return params


_REPORT_OPTIONS = {
    "data": "data",
    "period": "period",
    "compare_to": "compare_to",
    "target": "target",
    "scale": "scale",
    "fy_start": "fy_start",
}


def _check_freq(periods: list, want: str, command: str) -> None:
    other = {"month": "monthly", "quarter": "quarterly"}
    for p in periods:
        if p.freq != want:
            hint = f" Use `csatkit report {other[p.freq]}`." if p.freq in other else ""
            raise ParameterError(
                f"`csatkit report {command}` reports a {want}, but {p.label!r} is a {p.freq}.{hint}"
            )


def _cmd_report_period(args, *, freq: str, name: str) -> int:
    from . import report
    from .periods import parse_period, period_range

    params = _collect_params(args, _REPORT_OPTIONS)
    fy_start = int(params["fy_start"]) if str(params.get("fy_start", "")).strip().isdigit() else None
    mask = False if args.no_mask else None
    if args.periods and params.get("period"):
        raise ParameterError("Give either --period or --periods, not both.")
    if args.periods:
        _check_freq(period_range(args.periods, fy_start=fy_start), freq, args.report_command)
        paths = report.render_many("quarterly_report", params, args.periods, out_dir=args.out, name=name,
                                   timeout=args.timeout, mask=mask, progress=not args.quiet)
        for path in paths:
            print(path)
        return 0
    if "period" not in params:
        if freq == "month":
            raise ParameterError("`csatkit report monthly` needs --period (a month such as 2026-09) or --periods.")
        params["period"] = report.parameters("quarterly_report")["period"].default
    _check_freq([parse_period(params["period"], fy_start=fy_start)], freq, args.report_command)
    path = report.render("quarterly_report", params, out_dir=args.out, name=name, timeout=args.timeout, mask=mask)
    print(path)
    return 0


def _cmd_report_run(args) -> int:
    from . import report

    params = _collect_params(args, {})
    mask = False if args.no_mask else None
    if args.periods:
        paths = report.render_many(args.notebook, params, args.periods, out_dir=args.out, name=args.name,
                                   timeout=args.timeout, mask=mask, progress=not args.quiet)
        for path in paths:
            print(path)
        return 0
    print(report.render(args.notebook, params, out_dir=args.out, name=args.name, timeout=args.timeout, mask=mask))
    return 0


def _cmd_report_params(args) -> int:
    from . import report

    params = report.parameters(args.notebook)
    if not params:
        print(f"{report.find_notebook(args.notebook).name} has no cell tagged 'parameters'.")
        return 0
    width = max(len(p.name) for p in params.values())
    for p in params.values():
        print(f"  {p.name:<{width}}  {p.type_name:<5}  default {p.default!r:<10}  {p.help}")
    return 0


def _cmd_report_index(args) -> int:
    from . import report

    print(report.build_index(args.out))
    return 0


# --------------------------------------------------------------------------------------------
# parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a confidence level such as 0.95, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a confidence level between 0 and 1 such as 0.95, got {text!r}")
    return value


def _month(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 12:
        raise argparse.ArgumentTypeError(f"expected a month number from 1 to 12, got {text!r}")
    return int(text)


def _add_render_options(p: argparse.ArgumentParser) -> None:
    from .report import DEFAULT_TIMEOUT, REPORTS_DIR

    p.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="set a notebook parameter (repeatable); the value is converted to the type of its default")
    p.add_argument("--out", metavar="DIR", default=None, help=f"output folder (default: {REPORTS_DIR})")
    p.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"stop a render that takes longer (default: {DEFAULT_TIMEOUT})")
    p.add_argument("--no-mask", action="store_true",
                   help="show e-mail addresses, phone and card numbers in comments unmasked (still HTML-escaped)")
    p.add_argument("--quiet", action="store_true", help="no progress bar with --periods")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``csatkit`` command."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")

    parser = _Parser(prog="csatkit", description="Customer-satisfaction analytics for contact centres.",
                     parents=[common])
    parser.add_argument("--version", action="version", version=f"csatkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    # demo
    p = sub.add_parser("demo", parents=[common], help="generate the demo data and render the quarterly demo report",
                       description="Generate the demo data set (csatkit.synth.demo) on first use and render the "
                                   "quarterly report from it; prints the path of the HTML report.")
    p.add_argument("--period", default="2026Q3", help="quarter to report (default: 2026Q3)")
    _add_render_options(p)
    p.set_defaults(func=_cmd_demo)

    # validate
    p = sub.add_parser("validate", parents=[common], help="read a responses file and print its row ledger",
                       description="Read a responses export and print where every row went (kept, or excluded "
                                   "with a reason).")
    p.add_argument("file", metavar="FILE", help="CSV, Excel, Parquet or SPSS file")
    p.add_argument("--scale", help="scale of the score column (likert5, nps, ces7, binary, ...)")
    p.add_argument("--preset", help="column-map preset of the exporting tool")
    p.add_argument("--dayfirst", action="store_true", help="read dates as day/month/year")
    p.add_argument("--strict", action="store_true", help="fail on the first row that would be excluded")
    p.set_defaults(func=_cmd_validate)

    # metrics
    p = sub.add_parser("metrics", parents=[common], help="print a metric table with confidence intervals",
                       description="Compute CSAT, NPS, CES or the mean score per group and print the tidy table "
                                   "(estimate, ci_low, ci_high, n, flag, ...). quarter, month and year in --by are "
                                   "derived from interaction_at.")
    p.add_argument("file", metavar="FILE", help="responses file")
    p.add_argument("--by", default="", help="comma-separated group keys, e.g. channel,quarter")
    p.add_argument("--metric", default="csat", help="csat, nps, ces or mean (default: csat)")
    p.add_argument("--scale", help="scale to use when the file holds several")
    p.add_argument("--level", type=_level, default=0.95, help="confidence level (default: 0.95)")
    p.add_argument("--period", help="keep only this period, e.g. 2026Q3 or 2026-09")
    p.add_argument("--fy-start", type=_month, default=1, help="month (1-12) in which the fiscal year starts")
    p.add_argument("--preset", help="column-map preset of the exporting tool")
    p.add_argument("--dayfirst", action="store_true", help="read dates as day/month/year")
    p.add_argument("--format", choices=["text", "csv"], default="text", help="output format (default: text)")
    p.set_defaults(func=_cmd_metrics)

    # report
    rp = sub.add_parser("report", parents=[common], help="render reports from the notebooks",
                        description="Render parameterised notebooks into self-contained HTML reports "
                                    "(reports/<period>/<name>.html, plus reports/index.html).")
    rsub = rp.add_subparsers(dest="report_command", metavar="KIND", parser_class=_Parser)
    rsub.required = True
    for kind, freq, example in (("quarterly", "quarter", "2026Q3"), ("monthly", "month", "2026-09")):
        p = rsub.add_parser(kind, parents=[common], help=f"the {kind} CSAT report",
                            description=f"Render notebooks/quarterly_report.ipynb for a {freq} into "
                                        f"<out>/<period>/{kind}_report.html.")
        p.add_argument("--data", help="responses file (default: the demo data set)")
        p.add_argument("--period", help=f"{freq} to report, e.g. {example}")
        p.add_argument("--periods", metavar="FIRST:LAST", help=f"render every {freq} of an inclusive range")
        p.add_argument("--compare-to", dest="compare_to", help="period to compare with (default: the previous one)")
        p.add_argument("--target", help="CSAT target in %% satisfied (0-100)")
        p.add_argument("--scale", help="scale of the CSAT question (default: likert5)")
        p.add_argument("--fy-start", dest="fy_start", help="month (1-12) in which the fiscal year starts")
        _add_render_options(p)
        p.set_defaults(func=lambda a, _f=freq, _n=f"{kind}_report": _cmd_report_period(a, freq=_f, name=_n))

    p = rsub.add_parser("run", parents=[common], help="render any notebook in notebooks/",
                        description="Render a notebook of notebooks/ (or a path) with parameters given as "
                                    "-p NAME VALUE.")
    p.add_argument("notebook", metavar="NOTEBOOK", help="notebook name (e.g. quarterly_report) or path")
    p.add_argument("--name", help="report file name (default: the notebook's name)")
    p.add_argument("--periods", metavar="FIRST:LAST", help="render once per period of an inclusive range")
    _add_render_options(p)
    p.set_defaults(func=_cmd_report_run)

    p = rsub.add_parser("params", parents=[common], help="list a notebook's parameters",
                        description="List the parameters a notebook declares, with type, default and help.")
    p.add_argument("notebook", metavar="NOTEBOOK", help="notebook name or path")
    p.set_defaults(func=_cmd_report_params)

    p = rsub.add_parser("index", parents=[common], help="rebuild index.html of the output folder",
                        description="Rebuild <out>/index.html from the reports found there.")
    p.add_argument("--out", metavar="DIR", default=None, help="output folder (default: the project's reports/)")
    p.set_defaults(func=_cmd_report_index)
    return parser


def main(argv=None) -> int:
    """Run the ``csatkit`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print("csatkit: interrupted", file=sys.stderr)
        return 130
    except (CsatkitError, OSError) as exc:
        if debug:
            raise
        print(f"csatkit: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # anything unexpected: still one line, the traceback with --debug
        if debug:
            raise
        print(f"csatkit: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
