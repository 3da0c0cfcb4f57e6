"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _split(req: str) -> tuple[str, str]:
    m = _REQ.match(req.split(";")[0])
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
    return dict(_split(r) for r in reqs)


def _environment() -> dict:
    out = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if in_deps and re.match(r"^  - [^ ]", line):
            item = line[4:].split("#")[0].strip()
            if item.endswith(":") or item in ("pip",):
                continue
            name, spec = _split(item)
            if name != "python":
                out[name] = spec
    return out


def test_environment_yml_matches_pyproject():
    py, env = _pyproject(), _environment()
    assert py, "no dependencies parsed from pyproject.toml"
    only_py = sorted(set(py) - set(env))
    only_env = sorted(set(env) - set(py))
    assert not only_py and not only_env, f"only in pyproject.toml: {only_py}; only in environment.yml: {only_env}"
    differing = {k: (py[k], env[k]) for k in py if py[k] != env[k]}
    assert not differing, f"version specifiers differ (pyproject, environment.yml): {differing}"


def test_python_version_agrees():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["requires-python"] == ">=3.11"
    assert "python>=3.11" in (ROOT / "environment.yml").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make demo" in readme
    assert re.search(r"^make test$", ci, flags=re.M)


def test_top_level_names_load_their_modules_on_first_use():
    import importlib
    import subprocess
    import sys

    import csatkit

    # every advertised name is the object of the module that defines it
    for name in csatkit.__all__:
        value = getattr(csatkit, name)
        if name in csatkit._LAZY:
            module = importlib.import_module(f"csatkit.{csatkit._LAZY[name]}")
            assert value is getattr(module, name), name
    probe = ("import sys, csatkit; "
             "print(sorted(m for m in ('pandas', 'scipy', 'statsmodels', 'csatkit.drivers', 'csatkit.gaps') "
             "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    probe = "import sys; from csatkit import sections; print('csatkit.drivers' in sys.modules, 'csatkit.gaps' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False False"
    try:
        csatkit.no_such_name
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")
