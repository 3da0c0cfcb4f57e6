"""Shared test fixtures: a seeded random generator, a headless matplotlib, small data sets on disk."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; tests never open windows

import numpy as np
import pytest

#: Comments planted in the small report data set (tests check how they come out in the HTML).
PLANTED_COMMENTS = {
    "script": "<script>alert(1)</script> the agent was rude",
    "email": "Please write to jo.bloggs@example.com about it",
    "phone": "Call me back on +44 20 7946 0958 tomorrow",
    "card": "I read my card 4111 1111 1111 1111 to the agent",
    "order": "Order 12345 arrived on 2026-08-14, thanks",
}


@pytest.fixture
def planted_comments():
    """The comments planted in :func:`small_responses_csv`, by kind."""
    return dict(PLANTED_COMMENTS)


@pytest.fixture
def rng():
    """A seeded numpy Generator: random tests are reproducible."""
    return np.random.default_rng(20260930)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test leaves open."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="session")
def small_responses_csv(tmp_path_factory):
    """A small synthetic responses file (2,000 contacts, 2024Q4-2026Q4) with planted comments.

    The planted comments (:data:`PLANTED_COMMENTS`) sit on answered likert5 rows of 2026Q3 whose
    score is set to 1 (very dissatisfied), so the service-recovery list of the 2026Q3 report shows them.
    """
    import pandas as pd

    synth = pytest.importorskip("csatkit.synth")
    data = synth.generate(2_000, seed=11)
    responses = data.responses.copy()
    at = pd.to_datetime(responses["interaction_at"])
    rows = responses.index[
        (responses["scale"] == "likert5") & responses["score"].notna() & (at >= "2026-07-01") & (at < "2026-10-01")
    ]
    for row, text in zip(rows[: len(PLANTED_COMMENTS)], PLANTED_COMMENTS.values()):
        responses.loc[row, "comment"] = text
        responses.loc[row, "score"] = 1.0
    folder = tmp_path_factory.mktemp("small-data")
    path = folder / "responses.csv"
    responses.to_csv(path, index=False)
    return path
