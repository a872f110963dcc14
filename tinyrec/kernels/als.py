"""Implicit ALS's half-step by conjugate gradient: the Numba kernel and its vectorized NumPy twin.

Why a kernel: each row's conjugate-gradient solve visits only that row's observed pairs
(``O(d² + |I_u| d)`` per step), never building a ``d × d`` matrix per row; written as loops, that
runs row after row in compiled code. :func:`als_cg_rows_numpy` runs the same CG steps for all
rows at once with NumPy, each line one line of the algorithm (``A p`` for every row in two
products and a segment sum), which ``ImplicitALS(backend="numpy")`` runs.
"""

import numpy as np
from numba import njit

from . import entry


def _als_cg_rows(indptr, indices, confidence, X, Y, gram, cg_steps):
    """One half-step of implicit ALS: update every row of ``X`` by a few conjugate-gradient steps.

    Parameters
    ----------
    indptr : (n_rows + 1,) int64, indices : (nnz,) int, confidence : (nnz,) float
        CSR of the observed pairs of each row of ``X`` (a user's items, or an item's users) and
        their confidences ``c_ui = 1 + α r_ui``; one entry per pair.
    X : (n_rows, d) float
        The factors being solved for, rows ``x_u`` (updated in place; the current values start
        the CG).
    Y : (n_cols, d) float
        The fixed factors of the other side, rows ``y_i``.
    gram : (d, d) float64
        ``Σ_i y_i y_iᵀ + λ I`` over every row of ``Y``, computed once per half-step by the caller.
    cg_steps : int
        Conjugate-gradient iterations per row (3 is the usual choice; ``d`` solves exactly, up
        to round-off).

    Notes
    -----
    Row ``u`` minimizes ``Σ_i c_ui (p_ui − x_u·y_i)² + λ ‖x_u‖²`` over all columns ``i``, with
    ``p_ui = 1`` on observed pairs and ``c_ui = 1`` (``p_ui = 0``) elsewhere. The normal
    equations are ``A x_u = z_u`` with::

        A = gram + Σ_{i ∈ I_u} (c_ui − 1) y_i y_iᵀ        z_u = Σ_{i ∈ I_u} c_ui y_i

    ``A v`` costs ``O(d² + |I_u| d)`` without forming ``A`` (Takács, Pilászy, Tikk, "Applications
    of the conjugate gradient method for implicit feedback collaborative filtering", RecSys 2011;
    Hu, Koren, Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008).

    NumPy twin (with ``cg_steps = d``): ``X[u] = np.linalg.solve(A, z_u)`` for every row.
    """
    d = X.shape[1]
    r = np.empty(d)
    p = np.empty(d)
    ap = np.empty(d)
    for u in range(X.shape[0]):
        start, stop = indptr[u], indptr[u + 1]
        # r = z_u − A x_u, with A x_u = gram x_u + Σ (c_ui − 1)(y_i·x_u) y_i
        for f in range(d):
            acc = 0.0
            for g in range(d):
                acc += gram[f, g] * X[u, g]
            r[f] = -acc
        for k in range(start, stop):
            i = indices[k]
            c = confidence[k]
            yx = 0.0
            for f in range(d):
                yx += Y[i, f] * X[u, f]
            w = c - (c - 1.0) * yx  # z_u's term c_ui y_i minus A's term (c_ui − 1)(y_i·x_u) y_i
            for f in range(d):
                r[f] += w * Y[i, f]
        rs_old = 0.0
        for f in range(d):
            p[f] = r[f]
            rs_old += r[f] * r[f]
        for _ in range(cg_steps):
            if rs_old < 1e-20:
                break
            for f in range(d):  # ap = A p
                acc = 0.0
                for g in range(d):
                    acc += gram[f, g] * p[g]
                ap[f] = acc
            for k in range(start, stop):
                i = indices[k]
                yp = 0.0
                for f in range(d):
                    yp += Y[i, f] * p[f]
                w = (confidence[k] - 1.0) * yp
                for f in range(d):
                    ap[f] += w * Y[i, f]
            pap = 0.0
            for f in range(d):
                pap += p[f] * ap[f]
            step = rs_old / pap
            rs_new = 0.0
            for f in range(d):
                X[u, f] += step * p[f]
                r[f] -= step * ap[f]
                rs_new += r[f] * r[f]
            for f in range(d):
                p[f] = r[f] + (rs_new / rs_old) * p[f]
            rs_old = rs_new


als_cg_rows = entry(njit(cache=True)(_als_cg_rows), writes=("X",))


def als_cg_rows_numpy(indptr, indices, confidence, X, Y, gram, cg_steps):
    """The NumPy twin of :func:`als_cg_rows`: the same arguments and update of ``X``, all rows at once.

    Every row runs the same conjugate-gradient iteration (a row whose residual is already below
    1e-20 stops, as in the kernel)::

        r = z_u − A x_u,  p = r
        repeat cg_steps times:
            step = (r·r) / (p·A p);   x_u += step p;   r −= step A p
            p = r + (r_new·r_new / r·r) p

    (``r`` the residual, ``p`` the search direction), with
    ``A v = v gram + Σ_{i ∈ I_u} (c_ui − 1)(y_i·v) y_i`` and ``z_u = Σ_{i ∈ I_u} c_ui y_i``
    evaluated for all rows together: the per-pair terms are added into their rows by
    ``np.add.at``. The sums are associated differently from the kernel's loops, so the two agree to
    round-off, not bit for bit.
    """
    n_rows = len(indptr) - 1
    rows_of_pairs = np.repeat(np.arange(n_rows), np.diff(indptr))  # (nnz,) the row of each pair
    Y_pairs = Y[indices].astype(np.float64)  # (nnz, d): y_i of each observed pair
    c = np.asarray(confidence, dtype=np.float64)  # (nnz,)

    def A_times(V):  # (n_rows, d) -> (n_rows, d), row u: A V[u] with row u's A
        yv = np.einsum("kd,kd->k", Y_pairs, V[rows_of_pairs])  # (nnz,) y_i · v_u
        return V @ gram + row_sums(((c - 1.0) * yv)[:, None] * Y_pairs, rows_of_pairs, n_rows)

    x = X.astype(np.float64)
    r = row_sums(c[:, None] * Y_pairs, rows_of_pairs, n_rows) - A_times(x)  # z_u − A x_u
    p = r.copy()
    rs_old = np.einsum("ud,ud->u", r, r)  # (n_rows,)
    for _ in range(cg_steps):
        active = rs_old >= 1e-20  # rows whose residual is not yet (numerically) zero
        if not active.any():
            break
        ap = A_times(p)
        pap = np.einsum("ud,ud->u", p, ap)
        step = np.where(active, rs_old / np.where(active, pap, 1.0), 0.0)  # inactive rows stay
        x += step[:, None] * p
        r -= step[:, None] * ap
        rs_new = np.einsum("ud,ud->u", r, r)
        p = np.where(active[:, None], r + (rs_new / np.where(active, rs_old, 1.0))[:, None] * p, p)
        rs_old = np.where(active, rs_new, rs_old)
    X[...] = x


def row_sums(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """``out[u] = Σ_{k : rows[k] = u} values[k]``: ``(n_rows, d)``, zero for a row with no entry."""
    out = np.zeros((n_rows,) + values.shape[1:])
    np.add.at(out, rows, values)
    return out
