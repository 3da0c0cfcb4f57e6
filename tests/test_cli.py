"""The ``csatkit`` command (csatkit.cli)."""

from __future__ import annotations

import html
import io
import subprocess
import sys
from html.parser import HTMLParser

import pandas as pd
import pytest

from csatkit import __version__, report
from csatkit.cli import build_parser, main
from csatkit.exceptions import ParameterError


def run(capsys, *args):
    """(exit status, stdout, stderr) of ``csatkit ARGS`` run in this process."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, pattern):
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("csatkit: error: ")
    assert "Traceback" not in err
    import re

    assert re.search(pattern, lines[0]), lines[0]


@pytest.mark.parametrize(
    "args",
    [
        [], ["demo"], ["validate"], ["metrics"], ["report"], ["report", "quarterly"], ["report", "monthly"],
        ["report", "run"], ["report", "params"], ["report", "index"],
    ],
)
def test_help_everywhere(capsys, args):
    code, out, _ = run(capsys, *args, "--help")
    assert code == 0 and out.startswith("usage: csatkit")


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"csatkit {__version__}"


def test_usage_errors_are_one_line_with_status_2(capsys):
    code, _, err = run(capsys, "report", "quarterly", "--bogus")
    assert code == 2
    assert err.strip().splitlines() == ["csatkit: error: unrecognized arguments: --bogus (see `csatkit --help`)"]
    code, _, err = run(capsys, "nosuchcommand")
    assert code == 2 and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["report", "quarterly", "--target", "180"], r"`target` must lie in \[0, 100\] \(a percentage\), but 180.0"),
        (["report", "quarterly", "--period", "2026Q5"], r"'2026Q5' is not a period"),
        (["report", "quarterly", "--period", "2026-09"], r"reports a quarter, but '2026-09' is a month\. Use `csatkit report monthly`"),
        (["report", "monthly", "--period", "2026Q3"], r"reports a month, but '2026Q3' is a quarter"),
        (["report", "monthly"], r"needs --period \(a month such as 2026-09\)"),
        (["report", "quarterly", "--compare-to", "2026-06"], r"`compare_to` must be the same kind of period"),
        (["report", "quarterly", "-p", "targt", "80"], r"Unknown parameter 'targt' .* Did you mean 'target'\?"),
        (["report", "quarterly", "-p", "mask", "maybe"], r"`mask` must be true or false"),
        (["report", "quarterly", "--data", "no/such.csv"], r"The data file 'no/such.csv' \(parameter `data`\) does not exist"),
        (["report", "quarterly", "--period", "2026Q3", "--periods", "2026Q1:2026Q3"], r"either --period or --periods"),
        (["report", "quarterly", "--periods", "2026Q3:2026Q1"], r"runs backwards"),
        (["report", "quarterly", "--target", "90", "-p", "target", "80"], r"Parameter 'target' is given twice"),
        (["report", "run", "nosuch"], r"Notebook 'nosuch' not found"),
        (["validate", "no/such.csv"], r"File not found: .*no/such.csv"),
        (["metrics", "no/such.csv"], r"File not found: .*no/such.csv"),
        (["report", "quarterly", "--out", "/proc/csatkit-nope"], r"output folder .*\(`out_dir`, --out\) cannot be created"),
    ],
)
def test_bad_input_fails_with_one_line(capsys, args, pattern):
    code, out, err = run(capsys, *args)
    assert_one_line_error(code, err, pattern)
    assert out == ""


def test_debug_shows_the_exception(capsys):
    with pytest.raises(ParameterError):
        main(["report", "quarterly", "--target", "180", "--debug"])
    with pytest.raises(ParameterError):
        main(["--debug", "report", "quarterly", "--target", "180"])


def test_unexpected_errors_are_one_line_too(capsys, monkeypatch):
    def boom(args):
        raise TypeError("something odd")

    monkeypatch.setattr("csatkit.cli._cmd_report_index", boom)
    code, _, err = run(capsys, "report", "index")
    assert_one_line_error(code, err, r"TypeError: something odd \(run with --debug for the traceback\)")


def test_report_params_lists_the_notebook_interface(capsys):
    code, out, _ = run(capsys, "report", "params", "quarterly_report")
    assert code == 0
    lines = out.splitlines()
    assert [ln.split()[0] for ln in lines] == list(report.parameters("quarterly_report"))
    assert any("target" in ln and "float" in ln and "80.0" in ln and "CSAT target" in ln for ln in lines)


def test_report_index(capsys, tmp_path):
    code, out, _ = run(capsys, "report", "index", "--out", str(tmp_path))
    assert code == 0 and out.strip() == str(tmp_path.resolve() / "index.html")


def test_validate_prints_the_ledger(capsys, small_responses_csv):
    code, out, err = run(capsys, "validate", str(small_responses_csv))
    assert code == 0, err
    assert "Rows read:" in out and "kept:" in out


def test_metrics_by_channel_and_quarter(capsys, small_responses_csv):
    code, out, err = run(capsys, "metrics", str(small_responses_csv), "--by", "channel,quarter", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert {"channel", "quarter", "metric", "estimate", "ci_low", "ci_high", "n", "flag"} <= set(table.columns)
    assert set(table["metric"]) == {"csat"}
    assert "2026Q3" in set(table["quarter"])


def test_metrics_for_one_period_and_other_metrics(capsys, small_responses_csv):
    code, out, err = run(capsys, "metrics", str(small_responses_csv), "--by", "channel", "--metric", "nps",
                         "--period", "2026Q3", "--level", "0.9")
    assert code == 0, err
    assert "estimate" in out and "nps" in out
    code, _, err = run(capsys, "metrics", str(small_responses_csv), "--metric", "median")
    assert_one_line_error(code, err, r"`metric` must be one of \{'csat', 'nps', 'ces', 'mean'\}, but 'median'")
    code, _, err = run(capsys, "metrics", str(small_responses_csv), "--by", "chanel")
    assert_one_line_error(code, err, r"chanel")
    code, _, err = run(capsys, "metrics", str(small_responses_csv), "--level", "95")
    assert code == 2 and "expected a confidence level between 0 and 1" in err


def test_parser_builds_without_importing_heavy_modules():
    code = (
        "import sys; from csatkit.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('papermill', 'nbconvert', 'matplotlib.pyplot') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr
    assert build_parser().prog == "csatkit"


def test_python_dash_m_runs_the_command():
    ok = subprocess.run([sys.executable, "-m", "csatkit", "--version"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.strip() == f"csatkit {__version__}"
    bad = subprocess.run([sys.executable, "-m", "csatkit", "report", "quarterly", "--target", "180"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "csatkit: error: The value for `target` must lie in [0, 100] (a percentage), but 180.0 was passed."
    ]


# --------------------------------------------------------------------------------------------
# rendering through the command (kernel)


class _Text(HTMLParser):
    def __init__(self, page):
        super().__init__()
        self.parts = []
        self.feed(page)

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self):
        return " ".join(" ".join(self.parts).split())


@pytest.mark.slow
def test_report_quarterly_no_mask(capsys, tmp_path, small_responses_csv, planted_comments):
    code, out, err = run(capsys, "report", "quarterly", "--data", str(small_responses_csv), "--period", "2026Q3",
                         "--target", "85", "--no-mask", "--out", str(tmp_path))
    assert code == 0, err
    path = tmp_path / "2026Q3" / "quarterly_report.html"
    assert out.strip() == str(path.resolve())
    text = _Text(path.read_text()).text
    assert planted_comments["email"] in text and planted_comments["phone"] in text  # shown as written
    assert "<script>alert(1)</script>" in text  # still escaped: shown as text
    assert "Target: 85% satisfied" in text
    assert (tmp_path / "index.html").exists()


@pytest.mark.slow
def test_report_monthly(capsys, tmp_path, small_responses_csv):
    code, out, err = run(capsys, "report", "monthly", "--data", str(small_responses_csv), "--period", "2026-09",
                         "--out", str(tmp_path))
    assert code == 0, err
    path = tmp_path / "2026-09" / "monthly_report.html"
    assert out.strip() == str(path.resolve())
    text = _Text(path.read_text()).text
    assert "Customer satisfaction report: 2026-09" in text and "compared with 2026-08" in text


@pytest.mark.slow
def test_report_run_any_notebook(capsys, tmp_path):
    code, out, err = run(capsys, "report", "run", "_smoke", "-p", "label", "hello", "--out", str(tmp_path),
                         "--name", "smoke_check")
    assert code == 0, err
    path = tmp_path / "adhoc" / "smoke_check.html"
    assert out.strip() == str(path.resolve())
    assert "'hello'" in html.unescape(path.read_text())  # the repr, entity-escaped in the page


@pytest.mark.slow
def test_demo_generates_data_and_renders_the_quarterly_report(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("CSATKIT_DATA_DIR", str(tmp_path / "data"))
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "reports"))
    assert code == 0, err
    path = tmp_path / "reports" / "2026Q3" / "quarterly_report.html"
    assert out.strip() == str(path.resolve())
    assert f"demo data: {tmp_path / 'data' / 'demo' / 'responses.csv'}" in err
    assert (tmp_path / "data" / "demo" / "csatkit-demo.json").exists()
    assert "Customer satisfaction report: 2026Q3" in _Text(path.read_text()).text


def test_metrics_period_needs_timestamps(capsys, tmp_path):
    path = tmp_path / "nodates.csv"
    path.write_text("score,channel\n5,phone\n4,email\n1,chat\n")
    code, out, err = run(capsys, "metrics", str(path), "--scale", "likert5", "--period", "2026Q3")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no interaction_at timestamps" in err and "--period 2026Q3" in err


def test_metrics_says_how_many_rows_were_excluded(capsys, tmp_path):
    path = tmp_path / "dirty.csv"
    path.write_text("response_id,score,channel\n1,5,phone\n2,9,phone\n3,4,email\n3,4,email\n")
    code, out, err = run(capsys, "metrics", str(path), "--scale", "likert5")
    assert code == 0
    assert "4 rows read, 2 excluded" in err and "csatkit validate" in err
    assert "csat" in out
