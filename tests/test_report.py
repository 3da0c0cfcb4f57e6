"""Rendering notebooks into HTML reports (csatkit.report).

Fast tests check parameter handling, provenance, the HTML export and the index without starting
a kernel. Tests marked ``slow`` execute notebooks with papermill; the ``browser`` test opens the
rendered report in headless Chromium.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from csatkit import __version__, report
from csatkit.exceptions import DataFileError, ParameterError, RenderError

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")


# --------------------------------------------------------------------------------------------
# helpers


def make_notebook(path: Path, parameters: str, *cells: str) -> Path:
    """Write a notebook with a ``parameters`` cell and code cells (markdown when starting with '#md ')."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    first = new_code_cell(parameters)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first]
    for i, src in enumerate(cells):
        cell = new_markdown_cell(src[4:]) if src.startswith("#md ") else new_code_cell(src)
        cell.id = f"c{i}"
        nb.cells.append(cell)
    first.id = "p"
    nbformat.write(nb, path)
    return path


class Page(HTMLParser):
    """Start tags (with attributes), script bodies and text of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.scripts, self.text = [], [], []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    @property
    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())

    def classes(self) -> set:
        out = set()
        for _, attrs in self.tags:
            out.update((attrs.get("class") or "").split())
        return out


# --------------------------------------------------------------------------------------------
# parameters


def test_quarterly_parameters_are_typed_and_documented():
    params = report.parameters("quarterly_report")
    assert list(params) == ["data", "period", "compare_to", "target", "benchmark_low", "benchmark_high", "scale",
                            "mask", "fy_start", "contacts", "qa"]
    assert {n: p.type for n, p in params.items()} == {
        "data": str, "period": str, "compare_to": str, "target": float, "benchmark_low": float,
        "benchmark_high": float, "scale": str, "mask": bool, "fy_start": int, "contacts": str, "qa": str,
    }
    assert params["target"].default == 80.0 and params["mask"].default is True and params["data"].default == ""
    assert all(p.help for p in params.values())


def test_command_line_strings_are_converted_to_the_type_of_the_default(small_responses_csv):
    values = report.validate_params(
        "quarterly_report",
        {"target": "82.5", "mask": "no", "fy_start": "1", "period": "q3 2026", "compare_to": "2025-Q3",
         "data": str(small_responses_csv)},
    )
    assert values["target"] == 82.5
    assert values["mask"] is False
    assert values["fy_start"] == 1
    assert values["period"] == "2026Q3" and values["compare_to"] == "2025Q3"  # normalised labels
    assert values["data"] == str(small_responses_csv.resolve())
    assert values["benchmark_low"] == 70.0  # defaults filled in


@pytest.mark.parametrize("text, expected", [("true", True), ("Yes", True), ("1", True), ("on", True),
                                            ("false", False), ("NO", False), ("0", False), ("off", False)])
def test_booleans_from_text(text, expected):
    assert report.validate_params("quarterly_report", {"mask": text})["mask"] is expected


def test_python_values_are_type_checked():
    assert report.validate_params("quarterly_report", {"target": 75})["target"] == 75.0  # int for a float
    assert report.validate_params("quarterly_report", {"data": Path(__file__)})["data"] == str(Path(__file__))
    with pytest.raises(ParameterError, match="The value for `target` must be a number, but True was passed"):
        report.validate_params("quarterly_report", {"target": True})
    with pytest.raises(ParameterError, match="The value for `fy_start` must be a whole number, but 4.0 was passed"):
        report.validate_params("quarterly_report", {"fy_start": 4.0})
    with pytest.raises(ParameterError, match="The value for `mask` must be true or false, but 1 was passed"):
        report.validate_params("quarterly_report", {"mask": 1})


def test_list_and_dict_parameters_read_json(tmp_path):
    nb = make_notebook(tmp_path / "lists.ipynb", 'channels: list = ["phone"]  # channels\nlimits: dict = {}  # limits')
    values = report.validate_params(nb, {"channels": '["chat", "email"]', "limits": '{"chat": 80}'})
    assert values == {"channels": ["chat", "email"], "limits": {"chat": 80}}
    with pytest.raises(ParameterError, match=r"`channels` must be a JSON list such as \[\"phone\", \"email\"\]"):
        report.validate_params(nb, {"channels": "chat,email"})


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"targt": "80"}, ParameterError,
         r"Unknown parameter 'targt' for notebook quarterly_report.ipynb; it takes: data, period, .* Did you mean 'target'\?"),
        ({"target": "180"}, ParameterError,
         r"The value for `target` must lie in \[0, 100\] \(a percentage\), but 180.0 was passed."),
        ({"target": "-1"}, ParameterError, r"`target` must lie in \[0, 100\]"),
        ({"target": "eighty"}, ParameterError, r"The value for `target` must be a number, but 'eighty' was passed."),
        ({"target": "nan"}, ParameterError, r"`target` must be a number"),
        ({"benchmark_low": "85"}, ParameterError, r"`benchmark_low` \(85.0\) must not exceed `benchmark_high` \(80.0\)"),
        ({"fy_start": "1.5"}, ParameterError, r"The value for `fy_start` must be a whole number, but '1.5' was passed."),
        ({"fy_start": "13"}, ParameterError, r"`fy_start` must be a month number from 1 to 12, but 13"),
        ({"mask": "maybe"}, ParameterError, r"`mask` must be true or false \(or yes/no, 1/0\), but 'maybe'"),
        ({"period": "2026Q5"}, ParameterError, r"The value for `period` is not usable: '2026Q5' is not a period"),
        ({"period": "last quarter"}, ParameterError, r"'last quarter' is not a period"),
        ({"compare_to": "2026-06"}, ParameterError,
         r"`compare_to` must be the same kind of period as `period` \(a quarter\), but '2026-06' is a month"),
        ({"period": "2026Q3", "fy_start": "7"}, ParameterError, r"`period` is not usable: .*FY"),
        ({"scale": "likert9"}, ParameterError, r"The value for `scale` must be one of \{.*'likert5'.*\}, but 'likert9'"),
        ({"data": "no/such/file.csv"}, DataFileError,
         r"The data file 'no/such/file.csv' \(parameter `data`\) does not exist."),
    ],
)
def test_invalid_parameters_fail_with_one_clear_line(params, error, message):
    with pytest.raises(error, match=message) as info:
        report.validate_params("quarterly_report", params)
    assert "\n" not in str(info.value)


def test_missing_notebook_lists_the_available_ones():
    with pytest.raises(RenderError, match=r"Notebook 'quartely_report' not found: .*Did you mean 'quarterly_report'\?"):
        report.find_notebook("quartely_report")
    assert report.find_notebook("quarterly_report.ipynb") == report.NOTEBOOK_DIR / "quarterly_report.ipynb"


def test_render_validates_before_any_kernel_starts(tmp_path, monkeypatch):
    import papermill

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("papermill was called")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    for params in ({"target": "180"}, {"period": "2026Q9"}, {"data": str(tmp_path / "missing.csv")}, {"x": "1"}):
        with pytest.raises((ParameterError, DataFileError)):
            report.render("quarterly_report", params, out_dir=tmp_path / "out")
    with pytest.raises(ParameterError, match="`timeout` must be a number of seconds > 0"):
        report.render("quarterly_report", {}, out_dir=tmp_path / "out", timeout=0)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_mask_keyword_needs_a_mask_parameter(tmp_path):
    nb = make_notebook(tmp_path / "nomask.ipynb", "x: int = 1  # x")
    with pytest.raises(ParameterError, match="has no `mask` parameter"):
        report.render(nb, {}, out_dir=tmp_path / "out", mask=False)


# --------------------------------------------------------------------------------------------
# provenance


def test_provenance_fingerprints_the_input(tmp_path, monkeypatch):
    f = tmp_path / "responses.csv"
    f.write_bytes(b"score,channel\n5,chat\n4,email\n")
    monkeypatch.setenv("CSATKIT_RENDERED_AT", "2026-10-02T08:15:00Z")
    p = report.provenance(f, {"period": "2026Q3", "target": 80.0}, rows=2)
    expected = hashlib.sha256(f.read_bytes()).hexdigest()  # the stdlib's SHA-256 of the same bytes
    assert p.sha256 == expected and p.fingerprint == expected[:12]
    assert p.size_bytes == 29 and p.rows == 2 and p.source == str(f.resolve())
    assert p.parameters == {"period": "2026Q3", "target": 80.0}
    assert set(p.versions) >= {"python", "csatkit", "pandas", "statsmodels"}
    assert p.versions["csatkit"] == __version__
    assert p.rendered_at == "2026-10-02T08:15:00Z"
    frame = p.to_frame()
    assert list(frame.columns) == ["item", "value"]
    assert frame.set_index("item").loc["SHA-256 fingerprint", "value"] == expected[:12]
    assert json.loads(json.dumps(p.to_dict()))["fingerprint"] == expected[:12]
    assert "rendered at (UTC)" in p.summary()


def test_report_provenance_hashed_in_the_background_is_the_files_sha256(tmp_path):
    from csatkit import sections, synth

    f = tmp_path / "responses.csv"
    synth.generate(n_contacts=3000, seed=5).responses.to_csv(f, index=False)
    ctx = sections.prepare(str(f), period="2026Q3")
    sec = sections.provenance_section(ctx)
    expected = hashlib.sha256(f.read_bytes()).hexdigest()
    assert sec.data["provenance"].sha256 == expected
    assert expected[:12] in sec._repr_html_()
    # the context still copies and pickles (the digest travels as its value)
    import copy
    import pickle

    for other in (copy.deepcopy(ctx), pickle.loads(pickle.dumps(ctx))):
        assert sections.provenance_section(other).data["provenance"].sha256 == expected


def test_data_digest_over_several_chunks_is_sha256(tmp_path):
    f = tmp_path / "big.bin"
    f.write_bytes(bytes(range(256)) * ((33 << 20) // 256) + b"tail")  # two full 16 MiB chunks and a part
    assert report.data_digest(f) == hashlib.sha256(f.read_bytes()).hexdigest()


def test_provenance_render_time_is_utc_iso(tmp_path, monkeypatch):
    monkeypatch.delenv("CSATKIT_RENDERED_AT", raising=False)
    p = report.provenance(None, {})
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p.rendered_at)
    assert p.sha256 is None and p.fingerprint == ""


def test_provenance_html_is_escaped_and_missing_files_fail(tmp_path):
    p = report.provenance(None, {"note": "<script>x</script>"})
    assert "<script>" not in p._repr_html_() and "&lt;script&gt;" in p._repr_html_()
    with pytest.raises(DataFileError, match="The data file '.*nope.csv' does not exist."):
        report.provenance(tmp_path / "nope.csv")


def test_provenance_of_a_folder_hashes_every_file(tmp_path):
    (tmp_path / "a.parquet").write_bytes(b"1")
    (tmp_path / "b.parquet").write_bytes(b"22")
    p = report.provenance(tmp_path)
    assert p.size_bytes == 3 and len(p.sha256) == 64


# --------------------------------------------------------------------------------------------
# HTML export (no kernel)


def _executed_notebook():
    nb = new_notebook(metadata={"title": "Test report"})
    params = new_code_cell('period = "2026Q3"')
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell('period = "2026Q2"')
    injected.metadata["tags"] = ["injected-parameters"]
    title = new_markdown_cell("# A heading\n\nSome prose.")
    table = new_code_cell("import csatkit\nframe")
    table.outputs = [
        new_output("stream", name="stderr", text="FutureWarning: noisy\n"),
        new_output("execute_result", data={"text/html": "<table><tr><td>1</td></tr></table>", "text/plain": "1"},
                   execution_count=3),
    ]
    table.execution_count = 3
    figure = new_code_cell("ax = plot()")
    figure.outputs = [new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    silent = new_code_cell("x = 1")
    for i, c in enumerate([params, injected, title, table, figure, silent]):
        c.id = f"cell{i}"
    nb.cells = [params, injected, title, table, figure, silent]
    return nb


def test_export_hides_code_prompts_parameters_and_stderr():
    page = report._export_html(_executed_notebook(), title="Test report 2026Q3", footer="Rendered X.")
    doc = Page(page)
    assert doc.scripts == []  # the page runs no script and loads none
    assert not [t for t, a in doc.tags if t == "link" and "stylesheet" in (a.get("rel") or "")]
    assert "import csatkit" not in page and "period =" not in page and "2026Q2" not in page
    assert "FutureWarning" not in page
    assert not {"jp-InputPrompt", "jp-OutputPrompt", "highlight", "jp-CodeMirrorEditor"} & doc.classes()
    assert '<img alt="' in page and 'src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "A heading" in doc.all_text and "Rendered X." in doc.all_text
    assert "<title>Test report 2026Q3</title>" in page
    assert any(t == "meta" and a.get("name") == "viewport" and "width=device-width" in a.get("content", "")
               for t, a in doc.tags)
    assert "@media print" in page and "max-width: var(--csatkit-width)" in page
    # nothing is fetched from elsewhere: no remote url() in the CSS, no remote src/href, no @import
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page)
    assert "@import" not in page


def _dom(page: str) -> tuple[list, str]:
    """Elements with their attributes (class as a set of names, as HTML reads it) and the text."""
    doc = Page(page)
    norm = lambda k, v: " ".join(sorted((v or "").split())) if k == "class" else v  # noqa: E731
    return [(t, sorted((k, norm(k, v)) for k, v in a.items())) for t, a in doc.tags], doc.all_text


def test_export_equals_nbconvert_html_exporter_without_its_second_pass():
    """The page is the one nbconvert's HTMLExporter makes (same elements, attributes and text), BeautifulSoup pass included."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = _executed_notebook()
    extra = new_code_cell("show()")
    extra.id = "extra"
    extra.outputs = [new_output("display_data", data={
        "text/html": "<p>Two figures:</p><img src='data:image/png;base64,iVBORw0KGgo=' alt='A chart'>"
                     "<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
        "text/plain": "figures"})]
    nb.cells.append(extra)
    page = report._export_html(nb, title="Same 2026Q3", footer="Rendered Y.")
    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[DictLoader({"csatkit_report.html.j2": report._TEMPLATE})],
        template_file="csatkit_report.html.j2", exclude_input=True, exclude_input_prompt=True,
        exclude_output_prompt=True, embed_images=True, anchor_link_text="")
    ref_nb = report._report_cells(nb)
    ref_nb.metadata["title"] = "Same 2026Q3"
    reference, _ = exporter.from_notebook_node(
        ref_nb, resources={"csatkit": {"css": report._CSS, "footer": "Rendered Y.", "version": __version__}})
    assert _dom(page) == _dom(reference)
    tags = Page(page).tags
    assert all(a.get("alt") for t, a in tags if t == "img")
    assert [a.get("alt") for t, a in tags if t == "img"].count("A chart") == 1
    assert sum(a.get("tabindex") == "0" for t, a in tags if "jp-OutputArea-output" in (a.get("class") or "")) >= 3


# --------------------------------------------------------------------------------------------
# index


def _fake_report(out: Path, period: str, name: str, when: str, *, sidecar: bool = True) -> None:
    folder = out / period
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.html").write_text("<html></html>")
    if sidecar:
        (folder / f"{name}.json").write_text(json.dumps({
            "csatkit_report": 1, "name": name, "period": period, "title": f"{name} <{period}>",
            "notebook": f"{name}.ipynb", "rendered_at": when,
        }))


def test_index_lists_every_report_newest_period_first(tmp_path):
    _fake_report(tmp_path, "2025Q4", "quarterly_report", "2026-01-05T10:00:00Z")
    _fake_report(tmp_path, "2026Q3", "quarterly_report", "2026-10-02T08:15:00Z")
    _fake_report(tmp_path, "2026-09", "monthly_report", "2026-10-01T07:00:00Z")
    _fake_report(tmp_path, "adhoc", "_smoke", "2026-10-03T07:00:00Z", sidecar=False)
    _fake_report(tmp_path, "_screenshots", "ignored", "2026-10-03T07:00:00Z")
    (tmp_path / ".render-tmp").mkdir()
    (tmp_path / ".render-tmp" / "half.html").write_text("x")
    path = report.build_index(tmp_path)
    assert path == tmp_path / "index.html"
    page = path.read_text()
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert hrefs == ["2026-09/monthly_report.html", "2026Q3/quarterly_report.html",  # by start, newest first
                     "2025Q4/quarterly_report.html", "adhoc/_smoke.html"]
    assert "2026-10-02T08:15:00Z" in page
    assert "quarterly_report &lt;2026Q3&gt;" in page  # titles escaped
    assert "ignored" not in page and "half.html" not in page
    assert "4 report(s)" in page


def test_index_of_an_empty_folder(tmp_path):
    assert "No reports yet." in report.build_index(tmp_path / "new").read_text()


# --------------------------------------------------------------------------------------------
# rendering (kernel)


@pytest.fixture(scope="module")
def quarterly(tmp_path_factory, small_responses_csv):
    """The quarterly report for 2026Q3 from the small data set: (html path, html text, out dir)."""
    out = tmp_path_factory.mktemp("reports")
    path = report.render("quarterly_report", {"data": str(small_responses_csv), "period": "2026Q3"}, out_dir=out,
                         timeout=300)
    return path, path.read_text(encoding="utf-8"), out


@pytest.mark.slow
def test_quarterly_report_files(quarterly):
    path, page, out = quarterly
    assert path == out / "2026Q3" / "quarterly_report.html"
    executed = nbformat.read(path.with_suffix(".ipynb"), as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    side = json.loads(path.with_suffix(".json").read_text())
    assert side["period"] == "2026Q3" and side["parameters"]["target"] == 80.0
    assert ISO_TIME.fullmatch(side["rendered_at"])
    assert side["rendered_at"] in page  # the footer and the provenance table show the same time
    assert 'href="2026Q3/quarterly_report.html"' in (out / "index.html").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".render-")]  # temporary folder cleaned up


@pytest.mark.slow
def test_quarterly_report_is_self_contained_and_shows_no_code(quarterly):
    _, page, _ = quarterly
    doc = Page(page)
    assert doc.scripts == []
    images = [a for t, a in doc.tags if t == "img"]
    assert images and all(a["src"].startswith("data:image/png;base64,") for a in images)
    assert "import csatkit" not in doc.all_text and "from csatkit" not in doc.all_text
    assert "report.resolve_data" not in page and "injected" not in doc.all_text.lower()
    assert not {"jp-InputPrompt", "jp-OutputPrompt", "highlight", "jp-CodeMirrorEditor"} & doc.classes()
    headings = [h for h in re.findall(r"<h[12][^>]*>(.*?)<", page)]
    assert "Customer satisfaction report: 2026Q3" in headings
    assert {"Executive summary", "Trend", "CSAT by channel", "Channel gaps", "Service recovery", "Data quality", "Methods", "Provenance"} <= set(headings)


@pytest.mark.slow
def test_the_gap_section_states_each_finding_once_above_its_detailed_tables(quarterly):
    _, page, _ = quarterly
    start = page.index(">Channel gaps</h2>")
    section = page[start:page.index("<h2", start)]
    findings = [html.unescape(f) for f in re.findall(r"<li>(.*?)</li>", section)]
    assert len(findings) >= 3
    assert len(set(findings)) == len(findings)  # each stated once
    details = section[section.index("<details"):]
    details_text = html.unescape(re.sub(r"<[^>]+>", "", details))
    assert not [f for f in findings if f in details_text]  # and not again below
    for heading in ("Estimates per channel", "Pairwise gaps (Holm-adjusted p)", "Raw, standardised and model-based CSAT",
                    "Design effects of clustering", "Best channel per contact reason"):
        assert f"<h5>{heading}</h5>" in details, heading
    assert "<li>" not in details


@pytest.mark.slow
def test_comment_html_is_shown_as_text_and_personal_data_masked(quarterly, planted_comments):
    _, page, _ = quarterly
    doc = Page(page)
    assert doc.scripts == []  # the planted <script> did not become an element
    assert "alert(1)" not in "".join(doc.scripts)
    assert "<script>alert(1)</script> the agent was rude" in doc.all_text  # shown, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Please write to [email] about it" in doc.all_text
    assert "Call me back on [phone] tomorrow" in doc.all_text
    assert "I read my card [card] to the agent" in doc.all_text
    assert planted_comments["order"] in doc.all_text  # ordinary numbers untouched
    assert "jo.bloggs@example.com" not in page and "7946 0958" not in doc.all_text.replace("[phone]", "")


@pytest.mark.slow
def test_rerendering_is_idempotent_apart_from_the_render_time(quarterly, small_responses_csv):
    path, first, out = quarterly
    time.sleep(1.1)  # a different render time
    again = report.render("quarterly_report", {"data": str(small_responses_csv), "period": "2026Q3"}, out_dir=out,
                          timeout=300)
    second = again.read_text(encoding="utf-8")
    assert again == path
    assert ISO_TIME.findall(first) != ISO_TIME.findall(second)
    assert ISO_TIME.sub("<time>", first) == ISO_TIME.sub("<time>", second)


@pytest.mark.slow
def test_a_failing_cell_names_the_cell_and_keeps_the_earlier_report(tmp_path):
    nb = make_notebook(
        tmp_path / "fragile.ipynb",
        'period: str = "2026Q3"  # period\nfail: bool = False  # raise in the third cell',
        "#md # Fragile",
        "x = 41 + 1\nx",
        "# the next line fails on request\nif fail: raise ValueError('boom: the data were bad')\nx",
    )
    out = tmp_path / "out"
    good = report.render(nb, {}, out_dir=out, timeout=120)
    before = good.read_bytes()
    with pytest.raises(RenderError) as info:
        report.render(nb, {"fail": "true"}, out_dir=out, timeout=120)
    message = str(info.value)
    assert "\n" not in message
    assert re.search(r"Rendering fragile.ipynb failed in cell 4 \(`if fail: raise ValueError\('boom: the data were bad'\) ... x`\): "
                     r"ValueError: boom: the data were bad", message), message
    assert good.read_bytes() == before  # the earlier report is untouched
    failed = out / "2026Q3" / "fragile.failed.ipynb"
    assert str(failed) in message and failed.exists()
    assert sorted(p.name for p in (out / "2026Q3").iterdir()) == ["fragile.failed.ipynb", "fragile.html",
                                                                 "fragile.ipynb", "fragile.json"]
    assert not [p for p in out.iterdir() if p.name.startswith(".render-")]
    report.render(nb, {}, out_dir=out, timeout=120)
    assert not failed.exists()  # a later good render clears the failure


@pytest.mark.slow
def test_a_hanging_cell_is_stopped_by_the_timeout(tmp_path):
    nb = make_notebook(tmp_path / "hang.ipynb", "seconds: int = 60  # sleep", "import time\ntime.sleep(seconds)")
    started = time.perf_counter()
    with pytest.raises(RenderError, match=r"Rendering hang.ipynb was stopped after 3 s \(the timeout\): "
                                          r"cell 2 \(`import time ... time.sleep\(seconds\)`\) was still running"):
        report.render(nb, {}, out_dir=tmp_path / "out", timeout=3)
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "out" / "adhoc" / "hang.html").exists()
    # the partly executed notebook is kept for inspection, up to the cell that hung
    kept = json.loads((tmp_path / "out" / "adhoc" / "hang.failed.ipynb").read_text(encoding="utf-8"))
    hanging = [c for c in kept["cells"] if "time.sleep" in "".join(c["source"])]
    assert hanging and hanging[0]["metadata"]["papermill"]["start_time"]


@pytest.mark.slow
def test_the_watchdog_stops_a_render_that_overruns_in_total(tmp_path):
    # every cell stays within the per-cell limit; together they exceed it
    cells = ["import time\ntime.sleep(1.2)"] * 6
    nb = make_notebook(tmp_path / "slow.ipynb", "n: int = 1  # unused", *cells)
    started = time.perf_counter()
    with pytest.raises(RenderError, match=r"Rendering slow.ipynb was stopped after 3 s \(the timeout\): cell \d"):
        report.render(nb, {}, out_dir=tmp_path / "out", timeout=3)
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_render_many_renders_each_period_and_lists_them(tmp_path, capsys):
    nb = make_notebook(tmp_path / "per.ipynb", 'period: str = "2026Q3"  # period', "#md # Period report", "period")
    out = tmp_path / "out"
    paths = report.render_many(nb, {}, "2026Q2:2026Q3", out_dir=out, timeout=120)
    assert paths == [out / "2026Q2" / "per.html", out / "2026Q3" / "per.html"]
    assert "'2026Q2'" in Page(paths[0].read_text()).all_text and "'2026Q3'" in Page(paths[1].read_text()).all_text
    assert re.findall(r'href="([^"]+)"', (out / "index.html").read_text()) == ["2026Q3/per.html", "2026Q2/per.html"]
    assert "2/2" in capsys.readouterr().err  # the tqdm progress bar
    with pytest.raises(ParameterError, match="`compare_to` cannot be combined with several periods"):
        report.render_many("quarterly_report", {"compare_to": "2026Q1"}, "2026Q2:2026Q3", out_dir=out)
    with pytest.raises(ParameterError, match="runs backwards"):
        report.render_many(nb, {}, "2026Q3:2026Q2", out_dir=out)


# --------------------------------------------------------------------------------------------
# browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


_PROBE = """
<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var b = document.body;
  b.setAttribute("data-imgs-total", imgs.length);
  b.setAttribute("data-imgs-loaded", imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length);
  b.setAttribute("data-code", document.querySelectorAll(
    ".jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-OutputPrompt, .cm-editor, .highlight").length);
  b.setAttribute("data-import", document.body.innerText.indexOf("import csatkit") >= 0 ? "yes" : "no");
  b.setAttribute("data-headings", JSON.stringify(Array.prototype.map.call(
    document.querySelectorAll("h1, h2"), function (h) { return h.textContent.trim(); })));
  b.setAttribute("data-overflow", document.documentElement.scrollWidth > window.innerWidth + 1 ? "yes" : "no");
  // with every collapsed block open, text still wraps within the page's column (wide tables scroll)
  Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  var right = document.querySelector("main").getBoundingClientRect().right;
  b.setAttribute("data-text-past-column", Array.prototype.filter.call(document.querySelectorAll("p, li, h2"),
    function (e) { return e.getBoundingClientRect().right > right + 1; }).length);
});
</script>
"""


def _chrome(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _body_attrs(dom: str) -> dict:
    m = re.search(r"<body([^>]*)>", dom)
    assert m, dom[:500]
    return {k: html.unescape(v) for k, v in re.findall(r'(data-[\w-]+)="([^"]*)"', m.group(1))}


@pytest.mark.slow
@pytest.mark.browser
def test_report_in_a_headless_browser(quarterly, tmp_path):
    binary = _chromium()
    if binary is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium, or `make browser`)")
    path, page, _ = quarterly
    shots = report.REPORTS_DIR / "_screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / "quarterly_2026Q3.png"
    if shot.exists():
        shot.unlink()
    run = _chrome(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,3000", path.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, run.stderr[-2000:]

    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    for width, height in ((1200, 3000), (390, 844)):  # a desktop and a phone
        run = _chrome(binary, tmp_path / "profile", "--virtual-time-budget=5000", f"--window-size={width},{height}",
                      "--dump-dom", probe.as_uri())
        attrs = _body_attrs(run.stdout)
        assert int(attrs["data-imgs-total"]) >= 1
        assert attrs["data-imgs-loaded"] == attrs["data-imgs-total"]  # every figure decoded
        assert attrs["data-code"] == "0" and attrs["data-import"] == "no"
        headings = json.loads(attrs["data-headings"])
        assert "Customer satisfaction report: 2026Q3" in headings
        assert {"Executive summary", "Trend", "CSAT by channel", "Channel gaps", "Service recovery", "Data quality", "Methods", "Provenance"} <= set(headings)
        assert attrs["data-overflow"] == "no", f"the page scrolls sideways at {width} px"
        assert attrs["data-text-past-column"] == "0", f"text runs past the column at {width} px"


def _summary_rows(page: str) -> dict:
    """The executive-summary table of a rendered report: metric label -> (value, interval, n) as shown."""
    from html.parser import HTMLParser

    class Rows(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cell, self.row = [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.row = []
            elif tag in ("td", "th") and self.row is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None:
                self.row.append(self.cell.strip())
                self.cell = None
            elif tag == "tr" and self.row is not None:
                self.rows.append(self.row)
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    parser = Rows()
    parser.feed(page)
    return {r[0]: tuple(r[1:4]) for r in parser.rows if len(r) >= 4 and r[0].startswith(("CSAT (", "NPS (", "CES ("))}


@pytest.mark.slow
def test_headline_numbers_equal_what_csatkit_metrics_prints(quarterly, small_responses_csv, capsys):
    """The report's executive summary shows the figures `csatkit metrics` prints for the same file and period."""
    import csv
    import io

    from csatkit import cli

    _, page, _ = quarterly
    shown = _summary_rows(page)
    assert set(shown) == {"CSAT (% satisfied)", "NPS (−100 to 100)", "CES (mean effort score)"}
    for label, metric, digits in (("CSAT (% satisfied)", "csat", 1), ("NPS (−100 to 100)", "nps", 1),
                                  ("CES (mean effort score)", "ces", 2)):
        code = cli.main(["metrics", str(small_responses_csv), "--period", "2026Q3", "--metric", metric,
                         "--format", "csv"])
        out = capsys.readouterr().out
        assert code == 0
        row = next(csv.DictReader(io.StringIO(out)))
        value, interval, n = shown[label]
        assert value == f"{float(row['estimate']):.{digits}f}"
        assert interval == f"{float(row['ci_low']):.{digits}f}–{float(row['ci_high']):.{digits}f}"
        assert n.replace(",", "") == row["n"]
