"""Loader speed: csatkit.read_responses against plain pandas.read_csv of the same file, same run.

The ratio is what csatkit's validation, date handling and ledger cost on top of reading the file.
Run: python bench/bench_load.py [n_rows]
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _timing import best_of

from csatkit import read_responses


def main(n=1_000_000):
    rng = np.random.default_rng(0)
    stamps = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    frame = pd.DataFrame({
        "response_id": np.char.add("r", np.arange(n).astype(str)),
        "channel": rng.choice(["Phone", "E-mail", "chat", "Live Chat", "WhatsApp"], n),
        "agent_id": rng.choice([f"a{i}" for i in range(300)], n),
        "interaction_at": stamps.strftime("%d/%m/%Y %H:%M:%S"),
        "score": rng.choice(["1", "2", "3", "4", "5", "", "99"], n),
    })
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "responses.csv"
        frame.to_csv(path, index=False)
        base = best_of(lambda: pd.read_csv(path, dtype=str, keep_default_na=False))
        ours = best_of(lambda: read_responses(path, scale="likert5", missing_codes=[99]))
    print(f"{n:,} rows: pandas.read_csv {base:.2f} s; csatkit.read_responses {ours:.2f} s; ratio {ours / base:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
