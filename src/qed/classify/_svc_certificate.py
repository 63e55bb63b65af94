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
"""

from __future__ import annotations

import numpy as np

from qed.certificate import Certificate, scaled_tolerance
from qed.classify._svc_layout import pair_slices

__all__ = ["svc_certificate"]

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


def svc_certificate(model, dec: np.ndarray, codes: np.ndarray, Cw: np.ndarray, kdiag: float):
    """Certificate of a fitted SVC. dec : (n, n_pairs) decision values of ``model._ovo`` on
    the training data; codes : (n,) class codes; Cw : (n,) per-sample bounds Cᵢ (0 for a
    sample left out by a zero weight); kdiag : max K(xᵢ, xᵢ), the scale of the rounding."""
    k = len(model.classes_)
    hard = np.isinf(float(model.C))
    sign = -1.0 if k == 2 else 1.0  # scikit-learn's two-class sign back to libsvm's
    worst: dict[str, tuple[float, float]] = {}
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
            col += 1
    kernel = model.kernel if isinstance(model.kernel, str) else "callable"
    cert = Certificate(f"SVC(C={model.C}, kernel={kernel!r})")
    for key, (value, tol) in worst.items():
        cert.add(key, value, tol, NAMES[key])
    return cert
