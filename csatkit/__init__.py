"""csatkit: customer-satisfaction analytics for contact centres.

The names most analyses need are importable from the top level::

    import csatkit as ck
    responses, ledger = ck.read_responses("export.csv", preset="zendesk")
    ck.csat(responses, by=["channel", "quarter"])

Modules: :mod:`csatkit.scales`, :mod:`csatkit.schema`, :mod:`csatkit.load`, :mod:`csatkit.periods`,
:mod:`csatkit.counts`, :mod:`csatkit.intervals`, :mod:`csatkit.metrics`, :mod:`csatkit.trends`,
:mod:`csatkit.gaps`, :mod:`csatkit.drivers`, :mod:`csatkit.plots`, :mod:`csatkit.sections`,
:mod:`csatkit.report`, :mod:`csatkit.privacy`, :mod:`csatkit.synth`, :mod:`csatkit.cli`.
Nothing heavy is imported by ``import csatkit``: each name loads its module on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

# name -> module: imported on first use (PEP 562), so that ``from csatkit import sections`` or
# ``csatkit.read_responses`` does not pay for the regression and gap modules until they are used
_LAZY = {
    "ScoreTable": "counts", "tabulate": "counts",
    "drivers_section": "drivers", "join_qa": "drivers", "key_drivers": "drivers",
    "scorecard_regression": "drivers", "scorecard_validity": "drivers",
    "channel_gaps": "gaps", "decompose_gap": "gaps", "gap_change": "gaps", "gaps_section": "gaps",
    "mix_adjusted_gaps": "gaps", "reason_channel_matrix": "gaps",
    "normalise_channel": "load", "read_contacts": "load", "read_qa": "load", "read_responses": "load",
    "ces": "metrics", "csat": "metrics", "fcr": "metrics", "headline": "metrics", "mean_score": "metrics",
    "nps": "metrics", "response_rate": "metrics",
    "Period": "periods", "assign_periods": "periods", "filter_period": "periods", "parse_period": "periods",
    "period_range": "periods",
    "Scale": "scales", "get_scale": "scales", "register_scale": "scales",
    "Ledger": "schema",
    "compare_periods": "trends", "executive_summary": "trends", "p_chart": "trends", "service_recovery": "trends",
    "target_tracking": "trends",
}

from .exceptions import (  # noqa: E402 - light, and needed to catch errors before anything else is used
    CsatkitError,
    DataFileError,
    InputError,
    MissingColumnError,
    ParameterError,
    RenderError,
    ScaleError,
    StatisticalWarning,
)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'csatkit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "__version__",
    "ScoreTable", "tabulate",
    "drivers_section", "join_qa", "key_drivers", "scorecard_regression", "scorecard_validity",
    "CsatkitError", "DataFileError", "InputError", "MissingColumnError", "ParameterError", "RenderError",
    "ScaleError", "StatisticalWarning",
    "channel_gaps", "decompose_gap", "gap_change", "gaps_section", "mix_adjusted_gaps", "reason_channel_matrix",
    "normalise_channel", "read_contacts", "read_qa", "read_responses",
    "ces", "csat", "fcr", "headline", "mean_score", "nps", "response_rate",
    "Period", "assign_periods", "filter_period", "parse_period", "period_range",
    "Scale", "get_scale", "register_scale",
    "Ledger",
    "compare_periods", "executive_summary", "p_chart", "service_recovery", "target_tracking",
]
