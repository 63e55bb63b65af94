"""The SVC's certificate: the KKT conditions and the duality gap of every pairwise dual.

For the pair (a, b) with yᵢ = +1 on class a, fᵢ = Σⱼ αⱼyⱼK(xⱼ, xᵢ) + b and ξᵢ = max(0, 1 − yᵢfᵢ):

- ``dual_sign``            dual_coef_ = αᵢyᵢ with αᵢ ≥ 0
- ``kkt_box``              αᵢ ≤ Cᵢ
- ``kkt_balance``          Σαᵢyᵢ = 0 (∂L/∂b = 0)
- ``primal_feasibility``   yᵢfᵢ ≥ 1 where αᵢ < Cᵢ (up to the solver's tol)
- ``kkt_complementarity``  αᵢ(yᵢfᵢ − 1 + ξᵢ) = 0: support vectors lie on or inside the margin
- ``slack_complementarity`` (Cᵢ − αᵢ)ξᵢ = 0 (soft margin)
- ``duality_gap``          P − D = ‖w‖² + ΣCᵢξᵢ − Σαᵢ ≥ 0 (soft margin), with
  P(w, b) = ½‖w‖² + ΣCᵢξᵢ and D(α) = Σαᵢ − ½‖w‖²; it bounds P(w, b) − min P.
- ``margin_identity``      1/‖w‖ = 1/√Σαᵢ (hard margin), i.e. ‖w‖² = Σαᵢ.

Each is reported for the worst pair. The duality gap expands to Σᵢ[αᵢ(yᵢfᵢ − 1) + Cᵢξᵢ] (by
Σαᵢyᵢ = 0), a sum of terms that vanish except on samples within the solver's tol of the
margin, each at most Cᵢ·tol there: its tolerance is tol·Σ Cᵢ over those samples.

Error bounds (``cert.bounds``, ``qed.classify._svm_bounds``): per pair, the duality gap
measured with its rounding (the kernel entries', the decision values' and the sums', by
``qed.bounds.rounding``) plus the correction for |Σαᵢyᵢ| > 0 bounds P(w, b) − P*, and
√(2·gap) bounds ‖w − w*‖_H in the kernel's feature space; the pairs combine as in
``combine_bounds``. Only the w part of the decision function is bounded: the intercept b is
not penalised, so P is not strongly convex in b and b* need not be unique.
"""

from __future__ import annotations

import numpy as np

from qed.bounds import rounding
from qed.certificate import Certificate, scaled_tolerance
from qed.classify._svc_layout import pair_slices
from qed.classify._svm_bounds import (
    balance_correction,
    combine_bounds,
    kernel_error,
    problem_bounds,
)
from qed.classify._svm_kernels import KERNEL_CODES, kernel_diag

__all__ = ["kernel_scale", "svc_certificate"]

NAMES = {
    "dual_sign": "dual_coef_ = αᵢyᵢ with αᵢ ≥ 0: sign(αᵢyᵢ) = yᵢ",
    "kkt_box": "box constraint αᵢ ≤ Cᵢ (Cᵢ = C·class_weight·sample_weight)",
    "kkt_balance": "|Σαᵢyᵢ| = 0, i.e. ∂L/∂b = 0",
    "primal_feasibility": "max 1 − yᵢfᵢ over αᵢ < Cᵢ: yᵢ(wᵀφ(xᵢ) + b) ≥ 1 off the bound",
    "kkt_complementarity": "max αᵢ|yᵢfᵢ − 1 + ξᵢ|: support vectors lie on the margin",
    "slack_complementarity": "max (Cᵢ − αᵢ)ξᵢ: only bounded multipliers have slack",
    "duality_gap": "P − D = ‖w‖² + ΣCᵢξᵢ − Σαᵢ ≥ 0, bounds P(w, b) − min P",
    "margin_identity": "|1/‖w‖ − 1/√Σαᵢ|·‖w‖: the notes' hard-margin identity ‖w‖² = Σαᵢ",
}


def _pair_values(yf, alpha, C, coef, ysv, fsv, b, tol, kdiag, hard):
    """Residuals and tolerances of one pair. yf, alpha, C : (m,) over the pair's samples;
    coef, ysv, fsv : (n_SV,) αᵢyᵢ, labels and decision values at the pair's SVs."""
    m = len(yf)
    s_alpha = float(alpha.sum())
    floor = scaled_tolerance(s_alpha * max(kdiag, 1.0) + abs(b), n=m)
    kkt = tol + floor
    xi = np.maximum(0.0, 1.0 - yf)
    below = alpha < C
    w2 = float(coef @ (fsv - b))  # ‖w‖² = Σᵢ αᵢyᵢ(fᵢ − b) over the SVs
    Cmax = float(C.max(initial=0.0))
    v = {
        "dual_sign": float(np.max(np.maximum(0.0, -coef * ysv), initial=0.0)),
        "kkt_box": float(max(np.max(alpha - C, initial=0.0), 0.0)),
        "kkt_balance": abs(float(coef.sum())),
        "primal_feasibility": float(np.max(xi[below], initial=0.0)),
        "kkt_complementarity": float(np.max(alpha * np.abs(yf - 1 + xi), initial=0.0)),
    }
    t = {
        "dual_sign": np.finfo(float).tiny,
        "kkt_box": scaled_tolerance(Cmax if not hard else 1.0),
        "kkt_balance": scaled_tolerance(s_alpha, n=m),
        "primal_feasibility": kkt,
        "kkt_complementarity": kkt * max(float(alpha.max(initial=0.0)), 1e-300),
    }
    if hard:
        v["margin_identity"] = abs(1 / np.sqrt(max(w2, 1e-300)) - 1 / np.sqrt(s_alpha)) * np.sqrt(
            max(w2, 0.0)
        )
        t["margin_identity"] = kkt
    else:
        Cxi = float(C @ xi)
        v["slack_complementarity"] = float(np.max((C - alpha) * xi, initial=0.0))
        t["slack_complementarity"] = kkt * Cmax
        near = np.abs(yf - 1.0) <= kkt
        v["duality_gap"] = abs(w2 + Cxi - s_alpha)  # < 0 only for an infeasible α
        t["duality_gap"] = kkt * float(C[near | (yf < 1)].sum()) + floor * (s_alpha + Cxi)
    return v, t


def _pair_bounds(yf, alpha, C, coef, fsv, b, k_max, k_err, hard, y_pair) -> dict[str, float]:
    """``objective_gap`` and ``distance`` of one pair from its measured duality gap.

    yf, alpha, C : (m,) over the pair's samples (yᵢf̂ᵢ computed, αᵢ, Cᵢ); coef, fsv : (n_SV,)
    αᵢyᵢ and f̂ at the SVs; k_max ≥ K(xᵢ, xᵢ) on the pair; k_err ≥ |K̂ᵢⱼ − Kᵢⱼ| per entry;
    y_pair : (m,) the ±1 labels.
    Every computed sum is widened by its rounding, so p_hi ≥ P(w, b) and d_lo ≤ D(α′).
    """
    if (alpha > C).any():  # outside the box: not dual feasible, no weak duality
        return {"objective_gap": np.inf, "distance": np.inf}
    m, n_sv = len(yf), len(coef)
    s_alpha = float(alpha.sum())
    abs_coef = np.abs(coef)
    s_coef = float(abs_coef.sum())
    # |f̂ᵢ − fᵢ|: the kernel entries' error and the dot product's (|Kᵢⱼ| ≤ k_max, PSD)
    f_err = s_coef * k_err + rounding(n_sv + 2, s_coef * k_max + abs(b))
    w2 = float(coef @ (fsv - b))
    w2_err = s_coef * f_err + rounding(n_sv + 3, float(abs_coef @ np.abs(fsv - b)))
    w_norm = float(np.sqrt(max(w2 + w2_err, 0.0)))
    xi_err = f_err + rounding(2, 1.0) * (1.0 + np.abs(yf))  # per sample: max(0, ·) is 1-Lipschitz
    eps_balance = abs(float(coef.sum())) + rounding(n_sv, s_coef)
    d_lo = (
        s_alpha
        - rounding(m + 2, s_alpha)
        - 0.5 * (w2 + w2_err)
        - balance_correction(eps_balance, w_norm, k_max)
    )
    if hard:
        violation = max(float(np.max(1.0 - yf + xi_err, initial=0.0)), 0.0)
        half_hi = 0.5 * (w2 + w2_err) + rounding(2, abs(w2))
        half_lo = 0.5 * (w2 - w2_err) - rounding(2, abs(w2))
        d_lo -= rounding(4, abs(d_lo) + abs(w2))
        return problem_bounds(
            half_hi, d_lo, hard=True, half_w2_lo=half_lo, w_norm_hi=w_norm, violation=violation
        )
    d_lo -= rounding(4, abs(d_lo) + abs(w2))

    def p_upper(shift: float) -> float:
        """An upper bound on P(w, b + shift): the margins move by yᵢ·shift."""
        yf_s = yf + y_pair * shift
        err = xi_err + rounding(2, abs(b) + abs(shift))
        xi = np.maximum(0.0, 1.0 - yf_s)
        live = 1.0 - yf_s > -err  # only here can ξᵢ or its computed value be positive
        c_xi = float(C @ xi)
        p = 0.5 * (w2 + w2_err) + c_xi + float(C[live] @ err[live]) + rounding(m + 2, c_xi)
        return p + rounding(4, p)

    out = problem_bounds(p_upper(0.0), d_lo)
    # the distance bound is on w alone: P at the best intercept for this w is a smaller
    # upper bound on min_b P(w, b) ≥ P* + ½‖w − w*‖², hence a tighter √(2·gap)
    best = problem_bounds(p_upper(_best_shift(yf, y_pair, C)), d_lo)
    out["distance"] = min(out["distance"], best["distance"])
    return out


def _best_shift(yf: np.ndarray, y: np.ndarray, C: np.ndarray) -> float:
    """argmin over s of Σ Cᵢ·max(0, 1 − yfᵢ − yᵢs), a convex piecewise-linear function whose
    minimum lies at a breakpoint sᵢ = yᵢ(1 − yfᵢ): every breakpoint evaluated by prefix sums."""
    a = 1.0 - yf
    t = y * a  # the breakpoints
    pos, neg = y > 0, y < 0
    # y = +1 rows contribute Cᵢ(aᵢ − s) for s < aᵢ; y = −1 rows Cᵢ(aᵢ + s) for s > −aᵢ
    ap, cp = a[pos], C[pos]
    an, cn = -a[neg], C[neg]  # their breakpoints −aᵢ
    op, on = np.argsort(ap), np.argsort(an)
    ap, cp, an, cn = ap[op], cp[op], an[on], cn[on]
    cp_sum = np.append(np.cumsum(cp[::-1])[::-1], 0.0)  # Σ over rows k… of the y = +1 side
    cpa_sum = np.append(np.cumsum((cp * ap)[::-1])[::-1], 0.0)
    cn_sum = np.insert(np.cumsum(cn), 0, 0.0)  # Σ over the first k rows of the y = −1 side
    cna_sum = np.insert(np.cumsum(cn * an), 0, 0.0)
    kp = np.searchsorted(ap, t, side="right")  # y = +1 rows from kp on have aᵢ > s
    kn = np.searchsorted(an, t, side="left")  # y = −1 rows before kn have −aᵢ < s
    values = (cpa_sum[kp] - t * cp_sum[kp]) + (t * cn_sum[kn] - cna_sum[kn])
    return float(t[int(np.argmin(values))]) if len(t) else 0.0


def _bounds_note(model, k, hard, eps_balance) -> str:
    if hard:
        objective = (
            "|½‖w‖²_H − P*| of the hard margin P* = min ½‖w‖²_H on yᵢfᵢ ≥ 1 (a measured margin "
            "violation δ < 1 is allowed for: (w, b)/(1 − δ) is feasible)"
        )
    else:
        objective = "P(w, b) − P* with P = ½‖w‖²_H + ΣCᵢξᵢ"
    many = k > 2
    note = (
        f"objective_gap on {objective}"
        + (f", summed over the {k * (k - 1) // 2} one-vs-one pairs" if many else "")
        + " (the duality gap with its rounding); distance on ‖w − w*‖_H in the kernel's "
        "feature space, w = Σαᵢyᵢφ(xᵢ), not on the coordinates α"
        + (" (√ of the sum of squares over pairs)" if many else "")
        + "; prediction on max|⟨w − w*, φ(xᵢ)⟩| ≤ max√K(xᵢ, xᵢ)·distance over the rows "
        "certified" + (" and the pairs" if many else "") + ": the w part of the decision "
        "function only, not the intercept b (unpenalised, so P is not strongly convex in b "
        f"and b* need not be unique); Σαᵢyᵢ = 0 holds to {eps_balance:.1e}, allowed for by "
        "rebalancing α (a correction term in the gap)"
    )
    if model.kernel == "precomputed" or callable(model.kernel):
        note += "; assumes the kernel is positive semidefinite (not checked)"
    return note


def kernel_scale(model, X: np.ndarray) -> tuple[np.ndarray, float]:
    """K(xᵢ, xᵢ) for every row of the training X, shape (n,), and ``kernel_error``: a bound
    on the rounding of one computed kernel entry (inf for a kernel that is not PSD)."""
    r2 = 0.0
    if model.kernel == "precomputed":
        if X.shape[1] != len(X):
            raise ValueError(
                f"certificate with kernel='precomputed' needs the training Gram matrix "
                f"K(X_train, X_train) of shape ({X.shape[1]}, {X.shape[1]}), got {X.shape}."
            )
        diag = np.diag(X).copy()
    elif callable(model.kernel):
        diag = np.concatenate(
            [np.diag(model._call_kernel(B, B)) for B in np.array_split(X, -(-len(X) // 256))]
        )
    else:
        kern = (model._gamma, float(model.coef0), float(model.degree))
        diag = kernel_diag(X, KERNEL_CODES[model.kernel], *kern)
        r2 = float(np.max(np.einsum("ij,ij->i", X, X), initial=0.0))
        r2 += rounding(X.shape[1] + 1, r2)
    k_err = kernel_error(
        model.kernel, getattr(model, "_gamma", 1.0), float(model.coef0), float(model.degree),
        r2, X.shape[1],
    )  # fmt: skip
    return diag, k_err


def svc_certificate(
    model, dec: np.ndarray, codes: np.ndarray, Cw: np.ndarray, diag: np.ndarray, k_err: float
):
    """Certificate of a fitted SVC. dec : (n, n_pairs) decision values of ``model._ovo`` on
    the training data; codes : (n,) class codes; Cw : (n,) per-sample bounds Cᵢ (0 for a
    sample left out by a zero weight); diag : (n,) K(xᵢ, xᵢ), the scale of the rounding and
    of the prediction bound; k_err : ``kernel_error`` (inf: a kernel that is not PSD)."""
    k = len(model.classes_)
    hard = np.isinf(float(model.C))
    sign = -1.0 if k == 2 else 1.0  # scikit-learn's two-class sign back to libsvm's
    kdiag = float(np.max(np.abs(diag), initial=1.0))
    diag_hi = np.maximum(diag, 0.0) + (k_err if np.isfinite(k_err) else 0.0)
    worst: dict[str, tuple[float, float]] = {}
    per_pair: list[dict[str, float]] = []
    eps_balance = 0.0
    pairs = pair_slices(model.dual_coef_, model.n_support_)
    col = 0
    for a in range(k):
        for b in range(a + 1, k):
            pos, coef = pairs[col]
            coef = coef * sign
            idx = np.flatnonzero(((codes == a) | (codes == b)) & (Cw > 0))
            yp = np.where(codes[idx] == a, 1.0, -1.0)
            f = dec[:, col] * sign
            alpha_full = np.zeros(len(codes))
            sv = model.support_[pos]
            alpha_full[sv] = np.abs(coef)
            ysv = np.where(codes[sv] == a, 1.0, -1.0)
            b_pair = float(model.intercept_[col]) * sign
            v, t = _pair_values(
                yp * f[idx], alpha_full[idx], Cw[idx], coef, ysv, f[sv], b_pair,
                float(model.tol), kdiag, hard,
            )  # fmt: skip
            for key in v:
                if key not in worst or v[key] - t[key] > worst[key][0] - worst[key][1]:
                    worst[key] = (v[key], t[key])
            if np.isfinite(k_err):
                if v["dual_sign"] > 0:  # some αᵢ < 0: not dual feasible
                    per_pair.append({"objective_gap": np.inf, "distance": np.inf})
                else:
                    k_pair = float(np.max(diag_hi[idx], initial=0.0))
                    per_pair.append(
                        _pair_bounds(
                            yp * f[idx],
                            alpha_full[idx],
                            Cw[idx],
                            coef,
                            f[sv],
                            b_pair,
                            k_pair,
                            k_err,
                            hard,
                            yp,
                        )  # fmt: skip
                    )
                s_coef = float(np.abs(coef).sum())
                eps_balance = max(eps_balance, v["kkt_balance"] + rounding(len(coef), s_coef))
            col += 1
    kernel = model.kernel if isinstance(model.kernel, str) else "callable"
    cert = Certificate(f"SVC(C={model.C}, kernel={kernel!r})")
    for key, (value, tol) in worst.items():
        cert.add(key, value, tol, NAMES[key])
    if np.isfinite(k_err):
        feature_norm = float(np.sqrt(np.max(diag_hi, initial=0.0)))
        cert.set_bounds(
            combine_bounds(per_pair, feature_norm), _bounds_note(model, k, hard, eps_balance)
        )
    else:
        cert.set_bounds(
            {},
            f"no error bounds: the {kernel!r} kernel with coef0={model.coef0} is not positive "
            "semidefinite, so there is no feature space in which the dual bounds the primal",
        )
    return cert
