"""Render parameterised notebooks into self-contained HTML reports.

A report is a notebook in ``notebooks/`` executed with papermill and exported with nbconvert:

.. code-block:: text

    notebooks/quarterly_report.ipynb ──validate_params──▶ papermill (fresh kernel, temporary folder)
        ──▶ nbconvert HTML (no code, no prompts, figures embedded, responsive and print CSS)
        ──▶ reports/2026Q3/quarterly_report.html  (+ .ipynb, + .json sidecar)  ──▶ reports/index.html

* The notebook's cell tagged ``parameters`` is its interface: typed defaults with a ``# help``
  comment. :func:`validate_params` reads it with :func:`papermill.inspect_notebook`, converts
  command-line strings to the type of each default and checks names, types and domains (a period
  must be a period, a target a percentage, a data file must exist) **before** a kernel starts.
* :func:`render` executes into a temporary folder and moves the files into place one by one with
  :func:`os.replace` only when everything succeeded: a failed render leaves an earlier report of the
  same period untouched. A failing cell raises :class:`~csatkit.exceptions.RenderError` naming the
  notebook, the cell and the exception; a render that runs longer than ``timeout`` seconds is
  stopped (per cell by nbclient, and as a whole by a watchdog that kills the kernel).
* The HTML is self-contained: figures are base64 PNG in ``<img>`` tags, the page loads no script,
  font or style sheet from elsewhere. Rendering the same notebook with the same data and parameters
  twice gives the same HTML apart from the render time.
* :func:`build_index` writes ``index.html`` listing every report in the output folder, from the
  small JSON file written next to each report.

Paths are anchored at the package: the notebooks live in :data:`NOTEBOOK_DIR`, reports go to
:data:`REPORTS_DIR` unless an output folder is given.

Examples
--------
>>> from csatkit import report
>>> sorted(report.parameters("quarterly_report"))[:3]
['benchmark_high', 'benchmark_low', 'compare_to']
>>> report.validate_params("quarterly_report", {"target": "82.5", "period": "Q3 2026"})["period"]
'2026Q3'
>>> report.validate_params("quarterly_report", {"target": "180"})
Traceback (most recent call last):
...
csatkit.exceptions.ParameterError: The value for `target` must lie in [0, 100] (a percentage), but 180.0 was passed.
"""

from __future__ import annotations

import ast
import copy
import datetime as _dt
import hashlib
import html
import json
import logging
import math
import numbers
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata as _metadata
from pathlib import Path

from . import __version__
from ._validate import nearest
from ._validate import check_choice
from .exceptions import CsatkitError, DataFileError, ParameterError, RenderError

__all__ = [
    "render",
    "render_many",
    "validate_params",
    "parameters",
    "build_index",
    "provenance",
    "resolve_data",
    "find_notebook",
    "Parameter",
    "Provenance",
    "NOTEBOOK_DIR",
    "REPORTS_DIR",
    "DEFAULT_TIMEOUT",
]

PACKAGE_DIR = Path(__file__).resolve().parent
#: The project checkout that holds the package (notebooks/, reports/, data/ live beside csatkit/).
PROJECT_DIR = PACKAGE_DIR.parent
#: Where the report notebooks live.
NOTEBOOK_DIR = PROJECT_DIR / "notebooks"
#: Default output folder of rendered reports.
REPORTS_DIR = PROJECT_DIR / "reports"
#: Seconds a render may take before it is stopped.
DEFAULT_TIMEOUT = 600

_SIDECAR_VERSION = 1
_HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell"}
_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TRUE = {"true", "yes", "y", "1", "on"}
_FALSE = {"false", "no", "n", "0", "off"}
_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "list": list, "dict": dict}
_PERCENT_PARAMS = ("target", "benchmark_low", "benchmark_high")
#: Parameters whose value must be one of a fixed set, whichever notebook declares them.
_CHOICE_PARAMS = {
    "metric": ("csat", "mean_score", "nps", "ces", "ces_low_effort"),
    "outcome": ("satisfied", "score"),
}

# papermill logs a dead kernel or a failed cell itself; csatkit reports those as one RenderError.
# A NullHandler keeps its records off the terminal unless the application configures logging.
logging.getLogger("papermill").addHandler(logging.NullHandler())


# --------------------------------------------------------------------------------------------
# notebooks and their parameters


@dataclass(frozen=True)
class Parameter:
    """One entry of a notebook's ``parameters`` cell.

    Attributes
    ----------
    name : str
    type : type or None
        ``int``, ``float``, ``bool``, ``str``, ``list`` or ``dict``, from the annotation
        (``target: float = 80.0``) or else from the default; None when neither tells.
    default : object
        The default value (the source text when it is not a Python literal).
    help : str
        The ``# help`` comment of the line.
    """

    name: str
    type: type | None
    default: object
    help: str

    @property
    def type_name(self) -> str:
        return self.type.__name__ if self.type is not None else "any"


def find_notebook(notebook) -> Path:
    """The path of a report notebook.

    Parameters
    ----------
    notebook : str or Path
        A name in :data:`NOTEBOOK_DIR` with or without ``.ipynb`` (``"quarterly_report"``), or the
        path of an existing notebook file.

    Returns
    -------
    Path
        Absolute path of the notebook.

    Raises
    ------
    RenderError
        When no such notebook exists; the message lists the notebooks available.
    """
    if isinstance(notebook, Path) or (isinstance(notebook, str) and (os.sep in notebook or "/" in notebook)):
        path = Path(notebook).expanduser()
        if path.is_file():
            return path.resolve()
    elif isinstance(notebook, str):
        stem = notebook[:-6] if notebook.endswith(".ipynb") else notebook
        path = NOTEBOOK_DIR / f"{stem}.ipynb"
        if path.is_file():
            return path.resolve()
    else:
        raise ParameterError(
            f"The value for `notebook` must be a notebook name or path, but a {type(notebook).__name__} was passed."
        )
    available = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) if NOTEBOOK_DIR.is_dir() else []
    hint = nearest(Path(str(notebook)).stem, available) if available else None
    tip = f" Did you mean {hint!r}?" if hint else ""
    raise RenderError(
        f"Notebook {str(notebook)!r} not found: give a path to a .ipynb file or one of {available} "
        f"(in {NOTEBOOK_DIR}).{tip}"
    )


def _literal(text: str):
    """(value, True) for a Python literal, else (the text, False)."""
    try:
        return ast.literal_eval(text), True
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text, False


def parameters(notebook) -> dict[str, Parameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook : str or Path
        See :func:`find_notebook`.

    Returns
    -------
    dict
        name -> :class:`Parameter`, in the order of the cell. Empty when the notebook has no
        ``parameters`` cell.

    Notes
    -----
    The cell is read with :func:`papermill.inspect_notebook`, which understands one assignment per
    line, ``name: type = value  # help``. A line holding a second ``=`` (in the value or in the help)
    is skipped by papermill; ``tests/test_notebooks.py`` checks that no parameter is lost that way.
    """
    import papermill as pm

    path = find_notebook(notebook)
    try:
        raw = pm.inspect_notebook(str(path))
    except Exception as exc:  # a corrupt notebook file
        raise RenderError(f"Cannot read the parameters of notebook {path.name}: {type(exc).__name__}: {exc}") from exc
    out = {}
    for name, p in raw.items():
        default, literal = _literal(p["default"])
        ptype = _TYPES.get(str(p["inferred_type_name"]).split("[")[0].strip().lower())
        if ptype is None and literal and type(default) in _TYPES.values():
            ptype = type(default)
        out[name] = Parameter(name=name, type=ptype, default=default, help=p.get("help") or "")
    return out


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(name: str, value, ptype):
    """``value`` as ``ptype``: command-line strings are parsed, other values are type-checked."""
    if ptype is None:
        return value
    if isinstance(value, str) and ptype is not str:
        text = value.strip()
        if ptype is bool:
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ParameterError(
                f"The value for `{name}` must be true or false (or yes/no, 1/0), but {_shown(value)} was passed."
            )
        if ptype is int:
            if re.fullmatch(r"[+-]?\d+", text):
                return int(text)
            raise ParameterError(f"The value for `{name}` must be a whole number, but {_shown(value)} was passed.")
        if ptype is float:
            try:
                out = float(text)
            except ValueError:
                out = math.nan
            if not math.isfinite(out):
                raise ParameterError(f"The value for `{name}` must be a number, but {_shown(value)} was passed.")
            return out
        if ptype in (list, dict):
            kind = "list" if ptype is list else "object"
            example = '["phone", "email"]' if ptype is list else '{"phone": 80}'
            try:
                out = json.loads(text)
            except json.JSONDecodeError:
                out = None
            if not isinstance(out, ptype):
                raise ParameterError(
                    f"The value for `{name}` must be a JSON {kind} such as {example}, but {_shown(value)} was passed."
                )
            return out
    if ptype is bool:
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        raise ParameterError(f"The value for `{name}` must be true or false, but {_shown(value)} was passed.")
    if ptype is int:
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return int(value)
        raise ParameterError(f"The value for `{name}` must be a whole number, but {_shown(value)} was passed.")
    if ptype is float:
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value)):
            return float(value)
        raise ParameterError(f"The value for `{name}` must be a number, but {_shown(value)} was passed.")
    if ptype is str:
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise ParameterError(f"The value for `{name}` must be text, but {_shown(value)} was passed.")
    if ptype is list and isinstance(value, (list, tuple)):
        return list(value)
    if ptype is dict and isinstance(value, dict):
        return dict(value)
    raise ParameterError(f"The value for `{name}` must be a {ptype.__name__}, but {_shown(value)} was passed.")


def _parse_period(text, fy_start):
    """csatkit.periods.parse_period, imported lazily; a regex check when the module is unavailable."""
    try:
        from .periods import parse_period
    except ImportError:  # pragma: no cover - periods.py ships with the package
        if not re.fullmatch(r"(?i)\s*(fy)?\d{4}(\s*-?\s*q[1-4]|-(0?[1-9]|1[0-2]))?\s*", str(text)):
            raise ParameterError(f"{text!r} is not a period: expected a month like '2026-09' or a quarter like '2026Q3'.")
        return None
    return parse_period(text, fy_start=fy_start)


def _check_domains(values: dict) -> None:
    """Checks by parameter name, shared by every notebook that uses the name."""
    fy_start = values.get("fy_start", 1)
    if "fy_start" in values:
        if not isinstance(fy_start, int) or isinstance(fy_start, bool) or not 1 <= fy_start <= 12:
            raise ParameterError(f"The value for `fy_start` must be a month number from 1 to 12, but {fy_start!r} was passed.")
    periods = {}
    for name in ("period", "compare_to"):
        if name in values and isinstance(values[name], str) and not (name == "compare_to" and values[name].strip() == ""):
            try:
                p = _parse_period(values[name], fy_start)
            except CsatkitError as exc:
                raise ParameterError(f"The value for `{name}` is not usable: {exc}") from None
            if p is not None:
                values[name] = p.label
                periods[name] = p
    if len(periods) == 2 and periods["period"].freq != periods["compare_to"].freq:
        a, b = periods["period"], periods["compare_to"]
        raise ParameterError(
            f"The value for `compare_to` must be the same kind of period as `period` (a {a.freq}), "
            f"but {b.label!r} is a {b.freq}."
        )
    for name in _PERCENT_PARAMS:
        if name in values and isinstance(values[name], (int, float)) and not isinstance(values[name], bool):
            v = values[name]
            if not 0 <= v <= 100:
                raise ParameterError(f"The value for `{name}` must lie in [0, 100] (a percentage), but {v!r} was passed.")
    if {"benchmark_low", "benchmark_high"} <= set(values):
        lo, hi = values["benchmark_low"], values["benchmark_high"]
        if isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and lo > hi:
            raise ParameterError(
                f"The value for `benchmark_low` ({lo!r}) must not exceed `benchmark_high` ({hi!r})."
            )
    if "level" in values and isinstance(values["level"], float) and not 0 < values["level"] < 1:
        raise ParameterError(f"The value for `level` must lie in (0, 1), e.g. 0.95, but {values['level']!r} was passed.")
    for name, allowed in _CHOICE_PARAMS.items():
        if name in values and isinstance(values[name], str):
            check_choice(name, values[name], allowed)
    if "quarters" in values and isinstance(values["quarters"], int) and not 1 <= values["quarters"] <= 12:
        raise ParameterError(f"The value for `quarters` must be from 1 to 12, but {values['quarters']!r} was passed.")
    if "scale" in values and isinstance(values["scale"], str) and values["scale"]:
        from .scales import get_scale

        get_scale(values["scale"])
    if "data" in values and isinstance(values["data"], str) and values["data"].strip():
        path = Path(values["data"]).expanduser()
        if not path.exists():
            raise DataFileError(f"The data file {values['data']!r} (parameter `data`) does not exist.")
        values["data"] = str(path.resolve())


def validate_params(notebook, raw_params=None) -> dict:
    """Check and convert parameters for a notebook before it runs.

    Parameters
    ----------
    notebook : str or Path
        See :func:`find_notebook`.
    raw_params : dict, optional
        name -> value. Strings (from the command line) are converted to the type of the
        parameter's default: ``int``; ``float``; ``bool`` from ``true/false``, ``yes/no``, ``1/0``,
        ``on/off``; ``str`` as given; ``list``/``dict`` from JSON. Other values must already have
        that type (an ``int`` is accepted for a ``float``, a path for a ``str``).

    Returns
    -------
    dict
        Every parameter of the notebook: the defaults, overridden by ``raw_params``, typed.
        Periods are normalised to their label (``"Q3 2026"`` -> ``"2026Q3"``) and a ``data`` path to
        an absolute path.

    Raises
    ------
    ParameterError
        An unknown name (with the nearest known name), a value of the wrong type, or a value outside
        its domain: ``period``/``compare_to`` not a period, ``compare_to`` of another kind than
        ``period``, ``target``/``benchmark_low``/``benchmark_high`` outside 0-100, ``fy_start`` not a
        month, ``level`` outside (0, 1), ``scale`` not a registered scale.
    DataFileError
        A ``data`` path that does not exist.
    RenderError
        The notebook does not exist.
    """
    declared = parameters(notebook)
    raw_params = dict(raw_params or {})
    for name in raw_params:
        if name not in declared:
            hint = nearest(name, list(declared))
            tip = f" Did you mean {hint!r}?" if hint else ""
            known = ", ".join(declared) or "none"
            raise ParameterError(
                f"Unknown parameter {name!r} for notebook {find_notebook(notebook).name}; it takes: {known}.{tip}"
            )
    values = {}
    for name, p in declared.items():
        if name in raw_params:
            values[name] = _convert(name, raw_params[name], p.type)
        else:
            values[name] = p.default
    _check_domains(values)
    return values


# --------------------------------------------------------------------------------------------
# data and provenance


def _demo_dir() -> Path:
    env = os.environ.get("CSATKIT_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve() / "demo"
    if (PROJECT_DIR / "pyproject.toml").is_file() and os.access(PROJECT_DIR, os.W_OK):
        return PROJECT_DIR / "data" / "demo"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "csatkit" / "demo"


def _demo_file(folder: Path) -> Path | None:
    for name in ("responses.csv", "responses.parquet"):
        if (folder / name).is_file():
            return folder / name
    found = sorted(folder.glob("responses*"))
    return found[0] if found else None


def resolve_data(data="") -> Path:
    """The responses file a report reads: the path given, or the demo data set.

    Parameters
    ----------
    data : str or Path
        A path, or ``""`` for the demo data set of :func:`csatkit.synth.demo`. The demo set is
        generated on first use into ``$CSATKIT_DATA_DIR/demo``, else ``data/demo`` of the project
        checkout (not committed), else ``~/.cache/csatkit/demo``, and reused afterwards.

    Returns
    -------
    Path
        Absolute path of an existing file (or folder, for a partitioned data set).

    Raises
    ------
    DataFileError
        When the path does not exist.
    RenderError
        When the demo data set is asked for but cannot be generated.
    """
    if data is not None and str(data).strip():
        path = Path(data).expanduser()
        if not path.exists():
            raise DataFileError(f"The data file {str(data)!r} does not exist.")
        return path.resolve()
    folder = _demo_dir()
    stamp = folder / "csatkit-demo.json"
    try:
        current = json.loads(stamp.read_text()).get("csatkit") == __version__
    except (OSError, ValueError):
        current = False
    found = _demo_file(folder) if folder.is_dir() else None
    if current and found is not None:
        return found
    try:
        from . import synth
    except ImportError as exc:
        raise RenderError(f"The demo data set needs csatkit.synth, which cannot be imported: {exc}.") from exc
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-", dir=folder.parent))
    try:
        synth.demo().write(tmp)
        stamp_tmp = tmp / "csatkit-demo.json"
        stamp_tmp.write_text(json.dumps({"csatkit": __version__, "generated_at": _utc_now()}))
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process put a fresh copy in place first
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    found = _demo_file(folder)
    if found is None:
        raise RenderError(f"The demo data set was generated into {folder}, but no responses file is there.")
    return found


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def data_digest(path) -> str:
    """SHA-256 of a data file's bytes (of every file, with its relative name, for a folder), in hex.

    hashlib releases the GIL while it hashes (and so does reading), so this can run in a thread
    beside other work; large chunks keep the hand-overs of the GIL few.
    """
    path = Path(path)
    h = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path)).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 24), b""):
                h.update(chunk)
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return "not installed"


@dataclass
class Provenance:
    """Where a report's numbers came from.

    Attributes
    ----------
    source : str
        Absolute path of the data file (or folder).
    size_bytes : int or None
        Its size (the sum of the files, for a folder).
    rows : int or None
        Rows read, as passed by the caller.
    sha256 : str or None
        SHA-256 of the file's bytes (of every file, with its relative name, for a folder).
    parameters : dict
        The report's parameters.
    versions : dict
        python, csatkit, pandas, numpy, statsmodels, matplotlib versions.
    rendered_at : str
        UTC time of the render, ISO 8601 (``2026-10-02T08:15:00Z``).
    """

    source: str
    size_bytes: int | None
    rows: int | None
    sha256: str | None
    parameters: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    rendered_at: str = ""

    @property
    def fingerprint(self) -> str:
        """The first 12 hexadecimal digits of :attr:`sha256`: enough to tell two inputs apart."""
        return (self.sha256 or "")[:12]

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "size_bytes": self.size_bytes,
            "rows": self.rows,
            "sha256": self.sha256,
            "fingerprint": self.fingerprint,
            "parameters": dict(self.parameters),
            "versions": dict(self.versions),
            "rendered_at": self.rendered_at,
        }

    def _items(self) -> list[tuple[str, str]]:
        size = "" if self.size_bytes is None else f"{self.size_bytes:,} bytes"
        items = [
            ("data source", self.source),
            ("file size", size),
            ("rows read", "" if self.rows is None else f"{self.rows:,}"),
            ("SHA-256 fingerprint", self.fingerprint),
        ]
        items += [(f"parameter {k}", repr(v)) for k, v in self.parameters.items()]
        items += [(f"{k} version", v) for k, v in self.versions.items()]
        items.append(("rendered at (UTC)", self.rendered_at))
        return items

    def to_frame(self):
        """A two-column DataFrame (``item``, ``value``) for display."""
        import pandas as pd

        return pd.DataFrame(self._items(), columns=["item", "value"])

    def summary(self) -> str:
        width = max(len(k) for k, _ in self._items())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self._items())

    __str__ = summary

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in self._items()
        )
        return f'<div class="csatkit-table-wrap"><table class="csatkit-provenance"><tbody>{rows}</tbody></table></div>'


def provenance(data_path, params=None, *, rows: int | None = None, sha256: str | None = None) -> Provenance:
    """Record what a report was computed from.

    Parameters
    ----------
    data_path : str or Path or None
        The input file (or folder of files). None for a report without a data file.
    params : dict, optional
        The report's parameters, shown as given.
    rows : int, optional
        The number of rows read (the caller knows it; the file is not read again).
    sha256 : str, optional
        The input's digest as :func:`data_digest` computed it (e.g. in the background while the
        report ran); None: computed here.

    Returns
    -------
    Provenance
        Data source, file size, row count, SHA-256 of the input (:attr:`Provenance.fingerprint`
        shows the first 12 hexadecimal digits), parameters, the versions of Python, csatkit,
        pandas, numpy, statsmodels and matplotlib, and the render time in UTC. Inside a render the
        time is the one :func:`render` records in the report's index entry and footer.

    Raises
    ------
    DataFileError
        When ``data_path`` does not exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text("score\\n5\\n")
    >>> p = provenance(f, {"period": "2026Q3"}, rows=1)
    >>> p.fingerprint, p.size_bytes
    ('411e713d1d1c', 8)
    """
    if data_path is None or str(data_path) == "":
        source, size, digest = "", None, None
    else:
        path = Path(data_path).expanduser()
        if not path.exists():
            raise DataFileError(f"The data file {str(data_path)!r} does not exist.")
        path = path.resolve()
        source = str(path)
        size = path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        digest = sha256 if sha256 is not None else data_digest(path)
    if rows is not None and (not isinstance(rows, numbers.Integral) or rows < 0):
        raise ParameterError(f"The value for `rows` must be a whole number >= 0, but {rows!r} was passed.")
    versions = {"python": platform.python_version(), "csatkit": __version__}
    for dist in ("pandas", "numpy", "statsmodels", "matplotlib"):
        versions[dist] = _version(dist)
    return Provenance(
        source=source,
        size_bytes=size,
        rows=None if rows is None else int(rows),
        sha256=digest,
        parameters=dict(params or {}),
        versions=versions,
        rendered_at=os.environ.get("CSATKIT_RENDERED_AT") or _utc_now(),
    )


# --------------------------------------------------------------------------------------------
# execution


class _Watchdog:
    """Kills the kernels it watches when the whole render overruns its time."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.fired = False
        self._kernels = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def register(self, km) -> None:
        with self._lock:
            self._kernels.append(km)
            if self.fired:
                self._kill(km)

    def _kill(self, km) -> None:
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        try:
            if proc is not None:
                proc.kill()
        except OSError:
            pass

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for km in self._kernels:
                self._kill(km)

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()
        return False


def _kernel_manager_class(env: dict, watchdog: _Watchdog, log_path: Path):
    """A kernel manager that runs this interpreter's ipykernel with ``env``, watched by ``watchdog``.

    Running ``sys.executable`` rather than whatever kernel is registered as "python3" guarantees that
    the notebook sees the same csatkit as the command that renders it. The kernel process's own
    stdout/stderr (not the notebook's outputs) go to ``log_path`` rather than the terminal.
    """
    from ipykernel.kernelspec import get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class CsatkitKernelManager(AsyncKernelManager):
        def __init__(self, **kw):
            super().__init__(**kw)
            import zmq

            # encrypted (CurveZMQ) or local-socket transport: no plain TCP, and no kernel warning about it
            if zmq.has("curve"):
                self.transport_encryption = "auto"
            elif os.name == "posix":
                self.transport = "ipc"

        @property
        def kernel_spec(self):
            if self._kernel_spec is None:
                spec = get_kernel_dict()
                self._kernel_spec = KernelSpec(
                    argv=spec["argv"], display_name=spec["display_name"], language="python", metadata=spec["metadata"]
                )
            return self._kernel_spec

        async def start_kernel(self, **kw):
            full = dict(kw.pop("env", None) or os.environ)
            full.pop("MPLBACKEND", None)  # figures must reach the notebook (inline backend)
            full.update(env)
            with open(log_path, "ab") as fh:
                kw.setdefault("stdout", fh)
                kw.setdefault("stderr", fh)
                await super().start_kernel(env=full, **kw)
            watchdog.register(self)

    return CsatkitKernelManager


def _first_line(source: str, width: int = 60) -> str:
    """The first code line of a cell, and its last when there are more: ``import time ... time.sleep(60)``."""
    lines = [ln.strip() for ln in str(source).splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        return "(empty cell)"

    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 3] + "..."

    return cut(lines[0]) if len(lines) == 1 else f"{cut(lines[0])} ... {cut(lines[-1])}"


def _clean(text) -> str:
    text = _ANSI_RE.sub("", str(text)).strip()
    return text.splitlines()[0] if text else ""


def _log_tail(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return _clean(lines[-1]) if lines else ""


class _Progress:
    """What nbclient is executing, kept in memory through its hooks.

    papermill can save the notebook to disk at the start and end of every cell; that costs a JSON
    dump of the growing notebook each time (a third of a second for the quarterly report), so the
    saves are switched off and this record serves the failure messages instead: the running cell,
    and the partly executed notebook, written out only when a render is stopped.
    """

    def __init__(self):
        self.nb = None
        self.cell = None

    def notebook_start(self, notebook=None, **_):
        self.nb = notebook

    def cell_start(self, cell=None, cell_index=None, **_):
        if cell is not None and cell.get("cell_type") == "code":
            self.cell = (cell_index, cell.get("source", ""))

    def write(self, path: Path) -> bool:
        if self.nb is None:
            return False
        import nbformat

        try:
            nbformat.write(self.nb, str(path))
        except Exception:  # noqa: BLE001 - a partial notebook that cannot be written is not kept
            return False
        return True


def _execute(nb_path: Path, out_ipynb: Path, params: dict, *, timeout: float, rendered_at: str, keep_failed: Path):
    """Execute the notebook into ``out_ipynb``; returns the executed notebook."""
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    env = {"CSATKIT_RENDERED_AT": rendered_at, "PYTHONHASHSEED": "0"}
    watchdog = _Watchdog(timeout)
    progress = _Progress()
    what = f"Rendering {nb_path.name}"

    def kept() -> str:
        keep_failed.parent.mkdir(parents=True, exist_ok=True)
        if out_ipynb.exists():  # papermill saves the notebook when a cell raises
            os.replace(out_ipynb, keep_failed)
        elif not progress.write(keep_failed):
            return ""
        return f"; the executed notebook is kept at {keep_failed}"

    def stopped() -> RenderError:
        running = progress.cell
        where = f": cell {running[0]} (`{_first_line(running[1])}`) was still running" if running else ""
        return RenderError(f"{what} was stopped after {timeout:g} s (the timeout){where}{kept()}.")

    try:
        with watchdog:
            executed = pm.execute_notebook(
                str(nb_path),
                str(out_ipynb),
                parameters=params,
                kernel_name="python3",
                progress_bar=False,
                request_save_on_cell_execute=False,
                on_notebook_start=progress.notebook_start,
                on_cell_start=progress.cell_start,
                cwd=str(out_ipynb.parent),
                start_timeout=max(10, min(120, timeout)),
                execution_timeout=timeout,
                kernel_manager_class=_kernel_manager_class(env, watchdog, out_ipynb.parent / "kernel.log"),
                # every output has arrived when the last cell is done: stop the kernel rather than wait
                # while it frees its data (a fifth of a second for a million responses)
                shutdown_kernel="immediate",
            )
    except PapermillExecutionError as exc:
        evalue = _clean(exc.evalue)
        raise RenderError(
            f"{what} failed in cell {exc.cell_index} (`{_first_line(exc.source)}`): "
            f"{exc.ename}{': ' + evalue if evalue else ''}{kept()}."
        ) from None
    except CellTimeoutError:
        raise stopped() from None
    except (DeadKernelError, RuntimeError) as exc:
        if watchdog.fired:
            raise stopped() from None
        if isinstance(exc, DeadKernelError):
            tail = _log_tail(out_ipynb.parent / "kernel.log")
            raise RenderError(f"{what} failed: the kernel died{' (' + tail + ')' if tail else ''}{kept()}.") from None
        raise
    if watchdog.fired:
        raise stopped()
    return executed


# --------------------------------------------------------------------------------------------
# HTML export

_CSS = """
:root { --csatkit-width: 62rem; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body.jp-Notebook {
  max-width: var(--csatkit-width); margin: 0 auto; padding: 1.5rem 1.25rem 3rem;
  box-sizing: border-box; overflow: visible; height: auto;
}
main { display: block; }
.jp-Cell { padding: 0; margin: 0; }
.jp-Notebook .jp-Cell { overflow: visible; }
.jp-RenderedHTMLCommon, .jp-RenderedMarkdown { font-size: 1rem; line-height: 1.55; padding-right: 0; }
.jp-MarkdownOutput { padding-left: 0; }
.jp-Cell-inputWrapper, .jp-Cell-outputWrapper { display: block; }
.jp-RenderedHTMLCommon h1 { font-size: 1.9rem; margin-top: 0.5rem; }
.jp-RenderedHTMLCommon h2 { font-size: 1.4rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
.jp-RenderedHTMLCommon h3 { font-size: 1.15rem; }
.jp-OutputArea-child { display: block; }
.jp-OutputArea-output { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
/* the lab theme lays outputs out as table cells (table rows on narrow screens), which grow to
   their widest table instead of scrolling it: blocks keep text within the column */
body.jp-Notebook .jp-OutputArea-child .jp-OutputArea-output { display: block; min-width: 0; margin-left: 0; padding-left: 0; }
.jp-OutputArea-output pre { white-space: pre-wrap; word-break: break-word; }
.jp-RenderedImage img, .jp-OutputArea-output img { max-width: 100%; height: auto; }
.jp-RenderedImage { text-align: center; }
.jp-RenderedHTMLCommon table { margin: .5rem 0 1rem; font-size: .9rem; table-layout: auto; }
.csatkit-table-wrap { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
.jp-RenderedHTMLCommon table.csatkit-comments td, .jp-RenderedHTMLCommon table.csatkit-comments th {
  white-space: normal; max-width: 40rem; overflow-wrap: break-word; text-align: left; vertical-align: top;
}
.jp-RenderedHTMLCommon table.csatkit-comments th { white-space: nowrap; }
.jp-RenderedHTMLCommon table.csatkit-provenance th { text-align: left; font-weight: 600; vertical-align: top; }
.jp-RenderedHTMLCommon table.csatkit-provenance td { text-align: left; overflow-wrap: anywhere; white-space: normal; }
.jp-RenderedHTMLCommon table.csatkit-provenance th { white-space: normal; }
.csatkit-note, .csatkit-caption { font-size: .85rem; color: #57606a; }
.csatkit-footer {
  margin-top: 3rem; padding-top: .5rem; border-top: 1px solid #d0d7de; font-size: .8rem; color: #57606a;
  font-family: var(--jp-content-font-family, system-ui, sans-serif);
}
@media (max-width: 40rem) {
  body.jp-Notebook { padding: .75rem .6rem 2rem; }
  .jp-RenderedHTMLCommon h1 { font-size: 1.45rem; }
  .jp-RenderedHTMLCommon h2 { font-size: 1.2rem; }
  .jp-RenderedHTMLCommon table { font-size: .8rem; }
}
@media print {
  @page { margin: 15mm; }
  body.jp-Notebook { max-width: none; padding: 0; font-size: 10pt; }
  .jp-OutputArea-output, .csatkit-table-wrap { overflow: visible !important; }
  .jp-RenderedHTMLCommon table { font-size: 8.5pt; }
  img, table, tr, .jp-RenderedImage { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  .csatkit-comments td { max-width: none; }
}
"""

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<meta name="generator" content="csatkit {{ resources.csatkit.version }}">
<style type="text/css">{{ resources.csatkit.css }}</style>
{%- endblock html_head_css -%}
{% block body_footer %}
<footer class="csatkit-footer">{{ resources.csatkit.footer | escape }}</footer>
</main>
</body>
{% endblock body_footer %}
"""


def _report_cells(nb):
    """A copy of ``nb`` without parameter cells, stderr streams and code cells left empty."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if _HIDDEN_TAGS & set(cell.get("metadata", {}).get("tags", [])):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            if not cell.outputs:
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


#: An <img> start tag without an alt attribute; a start tag that opens an output area or a cell's
#: input (the lab template writes these with double-quoted class attributes, customers' text is escaped).
_IMG_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)")
_FOCUSABLE = re.compile(
    r'(<div (?:id="[^"]*" )?class="(?:[^"]*\s)?(?:jp-OutputArea-output|jp-Cell-inputWrapper)(?:\s[^"]*)?")'
)
_NO_ALT = "No description has been provided for this image"


def _exporter_class():
    """nbconvert's HTMLExporter without its second pass over the finished page.

    HTMLExporter re-parses the whole page with BeautifulSoup only to give images without alt text
    a placeholder and to make cells and outputs focusable (``tabindex="0"``); for a report with
    long tables that pass costs a third of a second, more than the rest of the export. This class
    makes the same two edits on the template's own markup with two regular expressions.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class _ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            # as HTMLExporter.from_notebook_node, up to its BeautifulSoup pass
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self,
                                                     resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page = _IMG_WITHOUT_ALT.sub(f'<img alt="{_NO_ALT}"', page)
            return _FOCUSABLE.sub(r'\1 tabindex="0"', page), resources

    return _ReportExporter


def _export_html(nb, *, title: str, footer: str) -> str:
    from jinja2 import DictLoader

    nb = _report_cells(nb)
    nb.metadata["title"] = title
    quiet = logging.getLogger(f"{__name__}.nbconvert")
    quiet.setLevel(logging.ERROR)
    exporter = _exporter_class()(
        template_name="lab",
        extra_loaders=[DictLoader({"csatkit_report.html.j2": _TEMPLATE})],
        template_file="csatkit_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        anchor_link_text="",
        log=quiet,
    )
    resources = {"csatkit": {"css": _CSS, "footer": footer, "version": __version__}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return body


# --------------------------------------------------------------------------------------------
# rendering


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ParameterError(
            f"The value for `{what}` must be a file name of letters, digits, '_', '-' and '.', but {name!r} was passed."
        )
    return name


def _out_dir(out_dir) -> Path:
    """The output folder, created if needed; an unusable one is an error naming `out_dir` (``--out``)."""
    out = (REPORTS_DIR if out_dir is None else Path(out_dir).expanduser()).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"The output folder {str(out)!r} (`out_dir`, --out) cannot be created: "
                             f"{exc.strerror or exc}.") from None
    if not os.access(out, os.W_OK):
        raise ParameterError(f"The output folder {str(out)!r} (`out_dir`, --out) is not writable.")
    return out


def _json_safe(values: dict) -> dict:
    return json.loads(json.dumps(values, default=str))


def render(
    notebook,
    params: dict | None = None,
    *,
    out_dir=None,
    name: str | None = None,
    period_label: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    mask: bool | None = None,
    index: bool = True,
) -> Path:
    """Execute a report notebook and write it as a self-contained HTML page.

    Parameters
    ----------
    notebook : str or Path
        A notebook name in ``notebooks/`` (``"quarterly_report"``) or a path.
    params : dict, optional
        Parameter values; strings are converted as described in :func:`validate_params`.
        ``data=""`` (the default of the report notebooks) means the demo data set.
    out_dir : str or Path, optional
        Output folder; :data:`REPORTS_DIR` (``reports/`` of the project) by default.
    name : str, optional
        File name of the report without extension; the notebook's name by default.
    period_label : str, optional
        Sub-folder of the report; by default the label of the ``period`` parameter (``2026Q3``),
        or ``"adhoc"`` for a notebook without one.
    timeout : float, default 600
        Seconds the whole render may take. The same limit applies to each cell.
    mask : bool, optional
        Sets the notebook's ``mask`` parameter (masking personal data in comments); None keeps
        ``params`` or the notebook's default.
    index : bool, default True
        Rebuild ``index.html`` of ``out_dir`` afterwards.

    Returns
    -------
    Path
        ``<out_dir>/<period_label>/<name>.html``. Beside it: ``<name>.ipynb`` (the executed notebook)
        and ``<name>.json`` (period, parameters, render time: the index is built from these).

    Raises
    ------
    ParameterError, DataFileError
        Invalid parameters, raised before any kernel starts (see :func:`validate_params`).
    RenderError
        A cell raised (the message names the cell, its first line and the exception; the executed
        notebook is kept as ``<name>.failed.ipynb``), or the render ran out of time. An earlier report
        of the same name and period is left as it was.

    Notes
    -----
    The HTML holds no code, no prompts and no parameter cells; output written to stderr (warnings)
    stays in the ``.ipynb`` only. Figures must be PNG (``%config InlineBackend.figure_formats =
    ['png']``) or SVG outputs; both are embedded in the page.
    """
    nb_path = find_notebook(notebook)
    if not isinstance(timeout, numbers.Real) or isinstance(timeout, bool) or not timeout > 0:
        raise ParameterError(f"The value for `timeout` must be a number of seconds > 0, but {timeout!r} was passed.")
    raw = dict(params or {})
    if mask is not None:
        if "mask" in parameters(nb_path):
            raw["mask"] = bool(mask)
        elif not mask:
            raise ParameterError(f"Notebook {nb_path.name} has no `mask` parameter, so masking cannot be switched off.")
    values = validate_params(nb_path, raw)
    if "data" in values and isinstance(values["data"], str):
        values["data"] = str(resolve_data(values["data"]))
    name = _check_name(name or nb_path.stem, "name")
    if period_label is None:
        period_label = values.get("period") if isinstance(values.get("period"), str) and values.get("period") else "adhoc"
    label = _check_name(str(period_label), "period_label")

    out = _out_dir(out_dir)
    final_dir = out / label
    out.mkdir(parents=True, exist_ok=True)
    rendered_at = _utc_now()
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=".render-", dir=out))
    try:
        ipynb = tmp / f"{name}.ipynb"
        executed = _execute(nb_path, ipynb, values, timeout=float(timeout), rendered_at=rendered_at,
                            keep_failed=final_dir / f"{name}.failed.ipynb")
        title = f"{executed.metadata.get('title') or name.replace('_', ' ').capitalize()} {label}".strip()
        footer = f"Rendered {rendered_at} with csatkit {__version__} from {nb_path.name}."
        page = _export_html(executed, title=title, footer=footer)
        (tmp / f"{name}.html").write_text(page, encoding="utf-8")
        sidecar = {
            "csatkit_report": _SIDECAR_VERSION,
            "name": name,
            "notebook": nb_path.name,
            "period": label,
            "title": title,
            "rendered_at": rendered_at,
            "duration_s": round(time.perf_counter() - started, 2),
            "html": f"{name}.html",
            "ipynb": f"{name}.ipynb",
            "parameters": _json_safe(values),
            "csatkit": __version__,
        }
        (tmp / f"{name}.json").write_text(json.dumps(sidecar, indent=2), encoding="utf-8")
        final_dir.mkdir(parents=True, exist_ok=True)
        for suffix in (".ipynb", ".json", ".html"):
            os.replace(tmp / f"{name}{suffix}", final_dir / f"{name}{suffix}")
        stale = final_dir / f"{name}.failed.ipynb"
        if stale.exists():
            stale.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if index:
        build_index(out)
    return final_dir / f"{name}.html"


def render_many(
    notebook,
    params: dict | None = None,
    periods=None,
    *,
    out_dir=None,
    name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    mask: bool | None = None,
    progress: bool = True,
) -> list[Path]:
    """Render one report per period, with a progress bar.

    Parameters
    ----------
    notebook, params, out_dir, name, timeout, mask
        As in :func:`render`; ``params`` must not hold ``period`` or ``compare_to`` (each report is
        compared with its previous period).
    periods : str or list
        An inclusive range ``"2025Q1:2026Q3"`` (see :func:`csatkit.periods.period_range`) or a list
        of period labels.
    progress : bool, default True
        Show a tqdm progress bar on stderr.

    Returns
    -------
    list of Path
        The HTML files, oldest period first.

    Raises
    ------
    ParameterError
        Invalid periods or parameters, before anything runs.
    RenderError
        After trying every period, when any failed: the message counts the failures and gives the
        first one. The reports that succeeded stay in place.
    """
    from tqdm.auto import tqdm

    from .periods import parse_period, period_range

    params = dict(params or {})
    for key in ("period", "compare_to"):
        if params.get(key):
            raise ParameterError(f"`{key}` cannot be combined with several periods: each report uses its own period.")
        params.pop(key, None)
    fy_start = _convert("fy_start", params["fy_start"], int) if "fy_start" in params else None
    if isinstance(periods, str):
        plist = [p.label for p in period_range(periods, fy_start=fy_start)]
    elif periods:
        plist = [parse_period(p, fy_start=fy_start).label for p in periods]
    else:
        raise ParameterError("The value for `periods` must be a range such as '2025Q1:2026Q3' or a list of periods, but none was given.")
    validate_params(notebook, dict(params, period=plist[0]))
    done, failed = [], []
    bar = tqdm(plist, desc=f"Rendering {name or find_notebook(notebook).stem}", unit="report", disable=not progress,
               file=sys.stderr)
    for label in bar:
        bar.set_postfix_str(label)
        try:
            done.append(render(notebook, dict(params, period=label), out_dir=out_dir, name=name, timeout=timeout,
                               mask=mask, index=False))
        except RenderError as exc:
            failed.append((label, exc))
    bar.close()
    build_index(_out_dir(out_dir))
    if failed:
        label, exc = failed[0]
        raise RenderError(f"{len(failed)} of {len(plist)} reports failed; first, {label}: {exc}")
    return done


# --------------------------------------------------------------------------------------------
# index

_INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 62rem; margin: 0 auto;
       padding: 1.5rem 1rem 3rem; color: #1f2328; line-height: 1.5; }
h1 { font-size: 1.6rem; }
.wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d7de; white-space: nowrap; }
th { background: #f6f8fa; }
p.note { color: #57606a; font-size: .85rem; }
@media print { body { max-width: none; padding: 0; } a { color: inherit; text-decoration: none; } }
"""


def _period_key(label: str):
    try:
        from .periods import parse_period

        return (1, parse_period(label).start.value, label)
    except Exception:  # not a period label: listed after the periods
        return (0, 0, label)


def build_index(out_dir=None) -> Path:
    """Write ``index.html`` listing every report in an output folder.

    Parameters
    ----------
    out_dir : str or Path, optional
        The folder :func:`render` wrote to; :data:`REPORTS_DIR` by default.

    Returns
    -------
    Path
        ``<out_dir>/index.html``: one row per report (period, report with a link, render time,
        notebook), newest period first. Built from the ``<name>.json`` written beside each report;
        an HTML report without one is listed with its file time. Folders starting with ``.`` or ``_``
        are skipped.
    """
    out = _out_dir(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for page in sorted(out.glob("*/*.html")):
        folder = page.parent.name
        if folder.startswith((".", "_")):
            continue
        meta = {}
        side = page.with_suffix(".json")
        if side.is_file():
            try:
                meta = json.loads(side.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = {}
        if not meta.get("csatkit_report"):
            mtime = _dt.datetime.fromtimestamp(page.stat().st_mtime, _dt.timezone.utc).replace(microsecond=0)
            meta = {"period": folder, "name": page.stem, "rendered_at": mtime.isoformat().replace("+00:00", "Z"),
                    "notebook": ""}
        meta["href"] = f"{folder}/{page.name}"
        entries.append(meta)
    entries.sort(key=lambda m: (_period_key(str(m.get("period", ""))), str(m.get("name", ""))), reverse=True)
    rows = "\n".join(
        "<tr><td>{period}</td><td><a href=\"{href}\">{name}</a></td><td><time>{when}</time></td><td>{nb}</td></tr>".format(
            period=html.escape(str(m.get("period", ""))),
            href=html.escape(m["href"], quote=True),
            name=html.escape(str(m.get("title") or m.get("name", ""))),
            when=html.escape(str(m.get("rendered_at", ""))),
            nb=html.escape(str(m.get("notebook", ""))),
        )
        for m in entries
    )
    body = rows or '<tr><td colspan="4">No reports yet.</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="csatkit {__version__}">
<title>Reports</title>
<style>{_INDEX_CSS}</style>
</head>
<body>
<h1>Reports</h1>
<div class="wrap">
<table>
<thead><tr><th>Period</th><th>Report</th><th>Rendered (UTC)</th><th>Notebook</th></tr></thead>
<tbody>
{body}
</tbody>
</table>
</div>
<p class="note">{len(entries)} report(s). Each folder also holds the executed notebook (.ipynb) of its report.</p>
</body>
</html>
"""
    target = out / "index.html"
    fd, tmp_name = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=out)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(page)
    os.chmod(tmp_name, 0o644)
    os.replace(tmp_name, target)
    return target
