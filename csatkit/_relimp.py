"""Fast relative-importance arithmetic: all-subset R², Shapley (LMG), Johnson weights, dominance.

Everything here works from a covariance matrix (or a stack of them), never from the rows, so the
cost does not depend on the number of evaluations once the matrix is formed.

All-subset R² by a vectorised sweep
-----------------------------------
Let ``C`` be the ``(p+1) x (p+1)`` covariance matrix of the items ``x_0 .. x_{p-1}`` and the
outcome ``y`` (last row/column). Sweeping item ``k`` out of ``C`` (a rank-one downdate)

.. math::

    C' = C - \\frac{C_{\\cdot k} C_{k \\cdot}}{C_{kk}}

gives the partial covariance of the remaining variables given ``x_k``, and the variance of ``y``
explained by adding ``x_k`` is :math:`C_{ky}^2 / C_{kk}`. Item ``k`` is then either left out of a
subset (keep ``C`` without row and column ``k``) or put in (keep ``C'`` without them). Doing this
for item 0, then item 1, ... doubles a stack of shrinking matrices at every step, breadth first:
after step ``i`` the stack holds ``2^(i+1)`` matrices of size ``(p-i)``, one per subset of the
first ``i+1`` items, and the explained variance of that subset. Element work is
:math:`\\sum_i 2^{i+1} (p-i)^2 \\approx 12 \\cdot 2^p`, memory peaks near ``5 * 2^p`` doubles
(about 0.7 GB at p = 24, with temporaries), and every step is one numpy expression on the whole
stack. Subset ``S`` ends at index :math:`\\sum_{j \\in S} 2^j` (bit ``j`` = item ``j``).

An item whose residual variance falls below ``tol`` times its variance is (numerically) a linear
combination of items already in the subset: it adds nothing and is not swept, which is what a
generalised inverse does.

Shapley values (LMG)
--------------------
.. math::

    \\phi_j = \\sum_{S \\subseteq P \\setminus \\{j\\}} \\frac{|S|!\\,(p-|S|-1)!}{p!}
              \\left[R^2(S \\cup \\{j\\}) - R^2(S)\\right]

computed in :math:`O(2^p)` by folding the vector of subset values in half once per bit.

References
----------
Lindeman, R. H., Merenda, P. F., & Gold, R. Z. (1980). *Introduction to Bivariate and
Multivariate Analysis*. Scott, Foresman.
Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
*Journal of Statistical Software*, 17(1).
Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor
variables in multiple regression. *Multivariate Behavioral Research*, 35(1), 1-19.
Budescu, D. V. (1993). Dominance analysis: a new approach to the problem of relative importance
of predictors in multiple regression. *Psychological Bulletin*, 114(3), 542-551.
Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors in
multiple regression. *Psychological Methods*, 8(2), 129-148.
Castro, J., Gómez, D., & Tejada, J. (2009). Polynomial calculation of the Shapley value based on
sampling. *Computers & Operations Research*, 36(5), 1726-1730.
"""

from __future__ import annotations

from math import comb

import numpy as np

__all__ = [
    "subset_explained",
    "subset_r2",
    "popcount",
    "shapley_from_subsets",
    "shapley_sampled",
    "relative_weights",
    "conditional_contributions",
    "dominance",
    "partial_out",
    "weighted_cov",
    "EXACT_MAX",
]

#: Largest number of items for which :func:`subset_r2` is used by default (2^24 subsets).
EXACT_MAX = 24

_TOL = 1e-10


def _as_stack(cov) -> tuple[np.ndarray, bool]:
    c = np.asarray(cov, dtype=float)
    single = c.ndim == 2
    if single:
        c = c[None]
    if c.ndim != 3 or c.shape[1] != c.shape[2] or c.shape[1] < 2:
        raise ValueError(f"cov must be a (p+1, p+1) matrix or a stack of them, got shape {np.shape(cov)}")
    return c, single


def subset_explained(cov, *, tol: float = _TOL) -> np.ndarray:
    """Explained variance of ``y`` for every subset of the items, by a breadth-first vectorised sweep.

    Parameters
    ----------
    cov : array, shape (p+1, p+1) or (B, p+1, p+1)
        Covariance matrix (or a stack of B matrices) of the p items followed by the outcome.
    tol : float
        Relative residual variance below which an item counts as collinear with the subset.

    Returns
    -------
    ndarray, shape (2^p,) or (B, 2^p)
        Variance of ``y`` explained by the items of each subset (not divided by var(y));
        subset ``S`` is at index :math:`\\sum_{j \\in S} 2^j`.
    """
    c, single = _as_stack(cov)
    nb, q, _ = c.shape
    p = q - 1
    diag0 = np.diagonal(c, axis1=1, axis2=2)[:, :p].copy()
    scale0 = np.where(diag0 > 0, diag0, 1.0)
    state = c[:, None, :, :].copy()  # (B, N=1, m+1, m+1)
    expl = np.zeros((nb, 1))
    for i in range(p):
        n_cur = state.shape[1]
        col = state[:, :, 1:, 0]  # (B, N, m): covariances of the remaining variables (and y) with item i
        d = state[:, :, 0, 0]
        ok = d > tol * scale0[:, i, None]
        inv = np.where(ok, 1.0 / np.where(ok, d, 1.0), 0.0)
        gain = col[:, :, -1] ** 2 * inv
        new_expl = np.empty((nb, 2 * n_cur))
        new_expl[:, :n_cur] = expl
        np.add(expl, gain, out=new_expl[:, n_cur:])
        expl = new_expl
        if i == p - 1:
            break
        m = state.shape[2] - 1
        rest = state[:, :, 1:, 1:]
        new = np.empty((nb, 2 * n_cur, m, m))
        new[:, :n_cur] = rest
        inc = new[:, n_cur:]
        np.multiply(col[:, :, :, None], (col * inv[:, :, None])[:, :, None, :], out=inc)
        np.subtract(rest, inc, out=inc)
        state = new
    return expl[0] if single else expl


def subset_r2(cov, *, var_y=None, tol: float = _TOL) -> np.ndarray:
    """R² of every subset of the items: :func:`subset_explained` divided by the variance of ``y``.

    ``var_y`` (scalar or shape (B,)) defaults to the last diagonal element of ``cov``; pass the
    total variance when ``cov`` is a partial covariance (controls swept out) so that the values
    are shares of the total variance.
    """
    c, single = _as_stack(cov)
    vy = c[:, -1, -1] if var_y is None else np.broadcast_to(np.asarray(var_y, dtype=float), (c.shape[0],))
    out = subset_explained(c, tol=tol) / vy[:, None]
    return out[0] if single else out


def popcount(p: int) -> np.ndarray:
    """Number of items in each subset, in bitmask order (uint8 array of length 2^p)."""
    pc = np.zeros(1, dtype=np.uint8)
    for _ in range(p):
        pc = np.concatenate([pc, pc + 1])
    return pc


def _shapley_weights(p: int) -> np.ndarray:
    """w[k] = k! (p-k-1)! / p! = 1 / (p * C(p-1, k)), for k = 0..p-1."""
    return np.array([1.0 / (p * comb(p - 1, k)) for k in range(p)])


def shapley_from_subsets(values, p: int | None = None) -> np.ndarray:
    """Shapley values of the p players from the value of every subset (bitmask order).

    Parameters
    ----------
    values : array, shape (2^p,) or (B, 2^p)
        Value of each subset; the empty set first.

    Returns
    -------
    ndarray, shape (p,) or (B, p)
        :math:`\\phi_j = \\sum_{S \\not\\ni j} w_{|S|} [v(S \\cup j) - v(S)]`, which sums to
        :math:`v(P) - v(\\emptyset)`.
    """
    v = np.asarray(values, dtype=float)
    single = v.ndim == 1
    if single:
        v = v[None]
    n = v.shape[1]
    if p is None:
        p = n.bit_length() - 1
    if n != 2**p:
        raise ValueError(f"values must have 2^p = {2**p} entries, got {n}")
    if p == 0:
        out = np.zeros((v.shape[0], 0))
        return out[0] if single else out
    w = _shapley_weights(p)
    pc = popcount(p)
    w_in = np.concatenate([[0.0], w])  # subsets containing j, |S| = k: weight w[k-1]
    w_out = np.concatenate([w, [0.0]])  # subsets not containing j, |S| = k: weight w[k]
    out = np.empty((v.shape[0], p))
    for b in range(v.shape[0]):
        # phi_j = sum_{S containing j} (w_in + w_out)[|S|] v(S) - sum_S w_out[|S|] v(S)
        size_sums = np.bincount(pc, weights=v[b], minlength=p + 1)
        total_out = float(size_sums @ w_out)
        g = v[b] * (w_in + w_out)[pc]
        for j in range(p - 1, -1, -1):
            half = 1 << j
            out[b, j] = g[half:].sum()
            g = g[:half] + g[half:]
        out[b] -= total_out
    return out[0] if single else out


def conditional_contributions(values, p: int) -> np.ndarray:
    """Average gain of each item by subset size: ``out[j, k]`` = mean of v(S ∪ j) - v(S) over |S| = k, j ∉ S.

    Averaging the rows over k gives the Shapley values (general dominance statistics).
    """
    v = np.asarray(values, dtype=float)
    pc = popcount(p)
    out = np.zeros((p, p))
    idx = np.arange(2**p)
    for j in range(p):
        without = idx[(idx >> j) & 1 == 0]
        gain = v[without | (1 << j)] - v[without]
        sums = np.bincount(pc[without], weights=gain, minlength=p)
        counts = np.array([comb(p - 1, k) for k in range(p)], dtype=float)
        out[j] = sums[:p] / counts
    return out


def dominance(values, p: int, *, tol: float = 1e-12) -> dict:
    """Complete, conditional and general dominance between every pair of items (Azen & Budescu 2003).

    Returns a dict with the (p, p) arrays ``complete``, ``conditional`` and ``general``, where
    ``[i, j]`` is 1.0 when item i dominates item j, 0.0 when j dominates i, 0.5 when undetermined
    (diagonal NaN), and ``by_size`` from :func:`conditional_contributions`.

    * complete: R²(S ∪ i) > R²(S ∪ j) for every subset S of the other items;
    * conditional: i's average gain exceeds j's at every subset size;
    * general: i's overall average gain (its Shapley value) exceeds j's.
    """
    v = np.asarray(values, dtype=float)
    cond = conditional_contributions(v, p)
    gen = cond.mean(axis=1)
    idx = np.arange(2**p)
    res = {k: np.full((p, p), np.nan) for k in ("complete", "conditional", "general")}
    for i in range(p):
        for j in range(p):
            if i == j:
                continue
            ctx = idx[((idx >> i) & 1 == 0) & ((idx >> j) & 1 == 0)]
            d = v[ctx | (1 << i)] - v[ctx | (1 << j)]
            res["complete"][i, j] = 1.0 if np.all(d > tol) else (0.0 if np.all(d < -tol) else 0.5)
            dc = cond[i] - cond[j]
            res["conditional"][i, j] = 1.0 if np.all(dc > tol) else (0.0 if np.all(dc < -tol) else 0.5)
            dg = gen[i] - gen[j]
            res["general"][i, j] = 1.0 if dg > tol else (0.0 if dg < -tol else 0.5)
    res["by_size"] = cond
    return res


def relative_weights(cov, *, var_y=None) -> np.ndarray:
    """Johnson's (2000) relative weights from a covariance matrix (items then outcome).

    With the item correlation matrix :math:`R = V \\Lambda V'`, the orthogonal counterparts
    :math:`Z` of the items satisfy :math:`\\mathrm{corr}(X, Z) = \\Lambda_* = V \\Lambda^{1/2} V'`;
    regressing ``y`` on ``Z`` gives :math:`\\beta_* = \\Lambda_*^{-1} r_{xy}`, and item ``j``'s weight
    is :math:`\\epsilon_j = \\sum_k \\Lambda_{*jk}^2 \\beta_{*k}^2`. The weights sum to R².
    Items with zero variance get weight 0.

    Returns shape (p,) or (B, p); scaled by var(y_in_cov) / var_y when ``var_y`` is given.
    """
    c, single = _as_stack(cov)
    p = c.shape[1] - 1
    sd = np.sqrt(np.clip(np.diagonal(c, axis1=1, axis2=2), 0, None))
    safe = np.where(sd > 0, sd, 1.0)
    corr = c / safe[:, :, None] / safe[:, None, :]
    rxx = corr[:, :p, :p]
    rxy = corr[:, :p, p]
    lam, vec = np.linalg.eigh(rxx)
    lam = np.clip(lam, 0, None)
    half = vec @ (np.sqrt(lam)[:, :, None] * np.swapaxes(vec, 1, 2))
    inv_sqrt = np.where(lam > 1e-12 * lam.max(axis=1, keepdims=True), 1 / np.sqrt(np.where(lam > 0, lam, 1)), 0.0)
    half_inv = vec @ (inv_sqrt[:, :, None] * np.swapaxes(vec, 1, 2))
    beta = np.einsum("bij,bj->bi", half_inv, rxy)
    eps = np.einsum("bjk,bk->bj", half**2, beta**2)
    if var_y is not None:
        vy = np.broadcast_to(np.asarray(var_y, dtype=float), (c.shape[0],))
        eps = eps * (c[:, p, p] / vy)[:, None]
    return eps[0] if single else eps


def shapley_sampled(cov, n_perm: int, rng, *, var_y=None, tol: float = _TOL, chunk: int = 4096):
    """Shapley decomposition of R² by sampling orderings (Castro et al. 2009), antithetic pairs.

    Each sampled ordering of the items and its reverse are swept in turn; an item's contribution
    in an ordering is the gain in R² when it enters. The estimate is the mean over orderings; the
    Monte Carlo standard error is the standard deviation of the pair means over the root of the
    number of pairs. Every ordering's contributions sum to the full R², so the estimates do too.

    Parameters
    ----------
    cov : array (p+1, p+1) or (B, p+1, p+1)
    n_perm : int
        Number of orderings (rounded up to an even number: n_perm / 2 pairs).
    rng : numpy.random.Generator

    Returns
    -------
    estimate, mc_error : ndarrays of shape (p,) or (B, p)
    """
    c, single = _as_stack(cov)
    nb, q, _ = c.shape
    p = q - 1
    vy = c[:, -1, -1] if var_y is None else np.broadcast_to(np.asarray(var_y, dtype=float), (nb,))
    n_pairs = max(1, (int(n_perm) + 1) // 2)
    est = np.empty((nb, p))
    err = np.empty((nb, p))
    for b in range(nb):
        pair_means = np.empty((n_pairs, p))
        done = 0
        while done < n_pairs:
            k = min(chunk, n_pairs - done)
            perms = np.argsort(rng.random((k, p)), axis=1)
            perms = np.concatenate([perms, perms[:, ::-1]])
            contrib = _sweep_orderings(c[b], perms, tol)
            pair_means[done:done + k] = 0.5 * (contrib[:k] + contrib[k:])
            done += k
        est[b] = pair_means.mean(axis=0) / vy[b]
        err[b] = (pair_means.std(axis=0, ddof=1) / np.sqrt(n_pairs) if n_pairs > 1 else np.full(p, np.nan)) / vy[b]
    if single:
        return est[0], err[0]
    return est, err


def _sweep_orderings(c: np.ndarray, perms: np.ndarray, tol: float) -> np.ndarray:
    """Explained-variance gain of each item when it enters, for a batch of orderings."""
    k, p = perms.shape
    state = np.broadcast_to(c, (k,) + c.shape).copy()
    scale0 = np.where(np.diag(c)[:p] > 0, np.diag(c)[:p], 1.0)
    contrib = np.zeros((k, p))
    rows = np.arange(k)
    for t in range(p):
        j = perms[:, t]
        col = state[rows, j, :]  # (k, p+1)
        d = col[rows, j]
        ok = d > tol * scale0[j]
        inv = np.where(ok, 1.0 / np.where(ok, d, 1.0), 0.0)
        contrib[rows, j] = col[:, -1] ** 2 * inv
        state -= col[:, :, None] * (col * inv[:, None])[:, None, :]
    return contrib


def partial_out(cov, k: int) -> np.ndarray:
    """Sweep the first ``k`` variables out of a covariance matrix (or stack): the partial covariance of the rest.

    Uses a pseudo-inverse, so collinear controls are harmless.
    """
    c, single = _as_stack(cov)
    if k == 0:
        out = c
    else:
        a = c[:, :k, :k]
        bmat = c[:, :k, k:]
        out = c[:, k:, k:] - np.swapaxes(bmat, 1, 2) @ np.linalg.pinv(a, hermitian=True) @ bmat
    return out[0] if single else out


def weighted_cov(z: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted covariance matrix of the columns of ``z`` (divisor: the sum of the weights)."""
    z = np.asarray(z, dtype=float)
    if w is None:
        w = np.ones(len(z))
    w = np.asarray(w, dtype=float)
    sw = w.sum()
    mean = (w @ z) / sw
    zc = z - mean
    return (zc.T @ (zc * w[:, None])) / sw
