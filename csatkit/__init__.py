"""csatkit: customer-satisfaction analytics for contact centres.

The names most analyses need are importable from the top level::

    import csatkit as ck
    responses, ledger = ck.read_responses("export.csv", preset="zendesk")
    ck.csat(responses, by=["channel", "quarter"])

Modules: :mod:`csatkit.scales`, :mod:`csatkit.schema`, :mod:`csatkit.load`, :mod:`csatkit.periods`,
:mod:`csatkit.counts`, :mod:`csatkit.intervals`, :mod:`csatkit.metrics`, :mod:`csatkit.trends`,
:mod:`csatkit.gaps`, :mod:`csatkit.drivers`, :mod:`csatkit.plots`, :mod:`csatkit.sections`,
:mod:`csatkit.report`, :mod:`csatkit.privacy`, :mod:`csatkit.synth`, :mod:`csatkit.cli`.
Plotting and report modules are not imported here, so ``import csatkit`` stays light.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .counts import ScoreTable, tabulate
from .drivers import drivers_section, join_qa, key_drivers, scorecard_regression, scorecard_validity
from .exceptions import (
    CsatkitError,
    DataFileError,
    InputError,
    MissingColumnError,
    ParameterError,
    RenderError,
    ScaleError,
    StatisticalWarning,
)
from .gaps import channel_gaps, decompose_gap, gap_change, gaps_section, mix_adjusted_gaps, reason_channel_matrix
from .load import normalise_channel, read_contacts, read_qa, read_responses
from .metrics import ces, csat, fcr, headline, mean_score, nps, response_rate
from .periods import Period, assign_periods, filter_period, parse_period, period_range
from .scales import Scale, get_scale, register_scale
from .schema import Ledger
from .trends import compare_periods, executive_summary, p_chart, service_recovery, target_tracking

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
