"""Every notebook in notebooks/ is a clean, parameterised, thin report that runs with its defaults.

In the spirit of notebooker's template sanity tests: the notebooks are interfaces (a ``parameters``
cell with typed, documented defaults), hold no logic (no function or class definitions), are
committed without outputs, and execute top to bottom.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from csatkit import report

NOTEBOOKS = sorted(report.NOTEBOOK_DIR.glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]


def _python(source: str) -> str:
    """Cell source with IPython magics and shell escapes replaced by ``pass``, so that ast can parse it."""
    return "\n".join(
        re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in source.splitlines()
    )


def _parameters_cell(nb):
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cells


def test_there_are_notebooks():
    assert "quarterly_report.ipynb" in IDS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_one_parameters_cell_first(path):
    nb = nbformat.read(path, as_version=4)
    cells = _parameters_cell(nb)
    assert len(cells) == 1, "exactly one cell must be tagged 'parameters'"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert first_code is cells[0], "the parameters cell must be the first code cell"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_parameter_is_typed_documented_and_seen_by_papermill(path):
    nb = nbformat.read(path, as_version=4)
    source = _parameters_cell(nb)[0].source
    tree = ast.parse(source)
    assigned = []
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), f"line {node.lineno}: write `name: type = value  # help`"
        assigned.append(node.target.id)
        ast.literal_eval(node.value)  # defaults are literals
    declared = report.parameters(path)
    assert list(declared) == assigned, "papermill skipped a line (a second '=' in the line?)"
    for name, p in declared.items():
        assert p.type is not None, f"{name}: no type"
        assert p.help, f"{name}: no `# help` comment"
        assert isinstance(p.default, p.type) or (p.type is float and isinstance(p.default, int)), name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
        assert "papermill" not in cell.metadata, f"cell {i} carries papermill metadata"
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_defines_no_functions(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_python(cell.source))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"cell {i} defines a {type(node).__name__}: logic belongs in the csatkit package"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_uses_no_paths_relative_to_the_working_directory(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert "../" not in cell.source and "sys.path" not in cell.source and "os.chdir" not in cell.source, i


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_runs_with_its_defaults(path, tmp_path, tmp_path_factory, monkeypatch):
    # the demo data set (data="") is generated once per session outside the project folder
    monkeypatch.setenv("CSATKIT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "csatkit-data"))
    html = report.render(path, {}, out_dir=tmp_path, timeout=600)
    assert html.exists() and html.stat().st_size > 0
