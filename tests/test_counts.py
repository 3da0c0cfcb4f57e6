"""Tests for csatkit.counts.tabulate's counting against pandas' groupby.

tabulate counts text and categorical keys with integer codes and ``numpy.bincount`` instead of
grouping the rows. The reference here is the plain pandas recipe the docstring promises: answered
rows grouped by the keys and the score (``observed=True``, sorted), unanswered rows grouped by the
group keys. Keys of other dtypes go through groupby inside tabulate too; they are checked the same
way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csatkit.counts import tabulate
from csatkit.exceptions import InputError, ParameterError

# sort order traps: upper before lower case, digits, accents, a prefix of another value, the empty string
WORDS = ["phone", "Phone", "email", "e-mail", "chat", "chat2", "10", "9", "élan", "zoë", "", "in_app"]


def reference(df: pd.DataFrame, keys: list, by: list, scale: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    rows = df[df["scale"] == scale]
    answered = rows["score"].notna()
    done = rows[answered].assign(score=rows.loc[answered, "score"].astype(int))
    counts = done.groupby(keys + ["score"], observed=True, sort=True).size().rename("n").reset_index()
    missing = rows[~answered]
    if not len(missing):
        return counts, None
    if by:
        return counts, missing.groupby(by, observed=True).size().rename("unanswered").reset_index()
    return counts, pd.DataFrame({"unanswered": [len(missing)]})


def frame(seed: int, n: int, key_dtype: str, unanswered: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(WORDS, dtype=object)
    channel = words[rng.integers(0, len(WORDS), n)]
    reason = words[rng.integers(0, 4, n)]
    agent = np.array([f"a{i:03d}" for i in rng.integers(0, 40, n)], dtype=object)
    scale = np.where(rng.random(n) < 0.7, "likert5", "nps")
    score = np.where(scale == "likert5", rng.integers(1, 6, n), rng.integers(0, 11, n)).astype(float)
    score[rng.random(n) < unanswered] = np.nan
    df = pd.DataFrame({"channel": channel, "contact_reason": reason, "agent_id": agent, "score": score,
                       "scale": pd.Series(scale, dtype="str")})
    if key_dtype == "str":
        return df.astype({"channel": "str", "contact_reason": "str", "agent_id": "str"})
    if key_dtype == "category":
        # categories in an order of their own, some never used, one of them ordered
        cats = list(reversed(WORDS)) + ["never"]
        return df.assign(channel=pd.Categorical(channel, categories=cats),
                         contact_reason=pd.Categorical(reason, categories=WORDS[:4][::-1] + ["unused"], ordered=True),
                         agent_id=pd.Series(agent, dtype="category"))
    # object (and integer) keys: counted by groupby inside tabulate
    return df.astype({"channel": object, "contact_reason": object}).assign(
        agent_id=pd.Series(agent, dtype=object).str.slice(1).astype(int))


@pytest.mark.parametrize("key_dtype", ["str", "category", "object"])
@pytest.mark.parametrize("keys, cluster", [
    ([], None), (["channel"], None), (["channel", "contact_reason"], None), (["contact_reason", "channel"], "agent_id"),
    ([], "agent_id"),
])
@pytest.mark.parametrize("unanswered", [0.0, 0.2, 1.0])
def test_tabulate_counts_as_groupby_does(key_dtype, keys, cluster, unanswered):
    df = frame(7, 3000, key_dtype, unanswered)
    for scale in ("likert5", "nps"):
        t = tabulate(df, keys, scale=scale, cluster=cluster)
        counts, missing = reference(df, keys + ([cluster] if cluster else []), keys, scale)
        pd.testing.assert_frame_equal(t.counts, counts)
        if missing is None:
            assert t.unanswered is None
        else:
            pd.testing.assert_frame_equal(t.unanswered, missing)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60), key_dtype=st.sampled_from(["str", "category"]),
       unanswered=st.sampled_from([0.0, 0.5, 1.0]))
def test_tabulate_small_frames_as_groupby(seed, n, key_dtype, unanswered):
    # tiny frames: empty tables, one row, a scale without answered rows
    df = frame(seed, n, key_dtype, unanswered)
    t = tabulate(df, ["channel", "contact_reason"], scale="likert5", cluster="agent_id")
    counts, missing = reference(df, ["channel", "contact_reason", "agent_id"], ["channel", "contact_reason"], "likert5")
    pd.testing.assert_frame_equal(t.counts, counts, check_index_type=len(counts) > 0)
    if missing is None:
        assert t.unanswered is None
    else:
        pd.testing.assert_frame_equal(t.unanswered, missing, check_index_type=len(missing) > 0)


def test_tabulate_many_key_combinations_are_grouped():
    # more key combinations than one array should hold: counted by groupby, with the same result
    rng = np.random.default_rng(3)
    n = 20000
    df = pd.DataFrame({
        "customer_id": pd.Series([f"c{i}" for i in rng.permutation(n)], dtype="str"),
        "response_id": pd.Series([f"r{i}" for i in rng.permutation(n)], dtype="str"),
        "score": rng.integers(1, 6, n).astype(float), "scale": "likert5",
    })
    t = tabulate(df, ["customer_id", "response_id"], scale="likert5")
    counts, _ = reference(df, ["customer_id", "response_id"], ["customer_id", "response_id"], "likert5")
    pd.testing.assert_frame_equal(t.counts, counts)


@pytest.mark.parametrize("key_dtype", ["str", "category", "object"])
def test_tabulate_reads_only_the_rows_of_its_scale(key_dtype):
    # a missing key, a label for a score or a point off the scale in another scale's rows is not this
    # table's business; in a row of the scale counted it is an error naming the row
    df = frame(11, 400, key_dtype, 0.1)
    nps_rows = np.flatnonzero(df["scale"].to_numpy() == "nps")
    likert_rows = np.flatnonzero(df["scale"].to_numpy() == "likert5")
    other = df.copy()
    other.loc[other.index[nps_rows[:5]], "channel"] = None
    other.loc[other.index[nps_rows[5]], "score"] = 10.0
    t = tabulate(other, ["channel"], scale="likert5")
    counts, missing = reference(df, ["channel"], ["channel"], "likert5")
    pd.testing.assert_frame_equal(t.counts, counts)
    pd.testing.assert_frame_equal(t.unanswered, missing)
    bad = other.copy()
    row = bad.index[likert_rows[7]]
    bad.loc[row, "channel"] = None
    with pytest.raises(InputError, match=f"Group key 'channel' is missing in the row with index label {row}"):
        tabulate(bad, ["channel"], scale="likert5")
    bad = df.copy()
    bad.loc[bad.index[likert_rows[3]], "score"] = 9.0
    with pytest.raises(InputError, match=f"holds 9.0 \\(index label {bad.index[likert_rows[3]]}\\), which is not a point"):
        tabulate(bad, ["channel"], scale="likert5")
    empty = df.assign(channel=np.where(df["scale"] == "likert5", None, df["channel"].astype(object)))
    with pytest.raises(InputError, match="Cannot group by 'channel': the column is empty in every row"):
        tabulate(empty, ["channel"], scale="likert5")


@pytest.mark.parametrize("key_dtype", ["str", "category", "object"])
def test_tabulate_refuses_keys_named_like_its_columns(key_dtype):
    # a key called n, score, w, w2 or unanswered would be overwritten by the table's own column
    df = frame(2, 50, key_dtype, 0.2)
    for name in ("n", "score", "w", "w2", "unanswered"):
        renamed = df.rename(columns={"channel": name, "score": "rating"} if name == "score" else {"channel": name})
        with pytest.raises(ParameterError, match=f"A key may not be named '{name}'"):
            tabulate(renamed, [name], scale="likert5", score="rating" if name == "score" else "score")
    with pytest.raises(ParameterError, match="A key may not be named 'n'"):
        tabulate(df.rename(columns={"agent_id": "n"}), ["channel"], scale="likert5", cluster="n")
    with pytest.raises(ParameterError, match=r"`by` names a key more than once: \['channel', 'channel'\]"):
        tabulate(df, ["channel", "channel"], scale="likert5")
