"""Period labelling speed: csatkit.periods.assign_periods against pandas' own to_period, same run.

Run: python bench/bench_periods.py [n_rows]
"""

import sys

import numpy as np
import pandas as pd
from _timing import best_of

from csatkit.periods import assign_periods


def main(n=10_000_000):
    rng = np.random.default_rng(0)
    ts = pd.Series(pd.to_datetime(rng.integers(pd.Timestamp("2018-01-01").value, pd.Timestamp("2027-01-01").value, n)))
    base = best_of(lambda: ts.dt.to_period("Q-DEC").astype(str))
    ours = best_of(lambda: assign_periods(ts, "quarter", fy_start=7))
    print(f"{n:,} timestamps: pandas to_period+str {base:.3f} s; csatkit assign_periods (fiscal) {ours:.3f} s; "
          f"ratio {ours / base:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
