"""The coin model of the notes (동전 던지기): Bernoulli likelihood, Beta prior, Beta posterior.

    p(xᵢ|θ) = θ^xᵢ (1 − θ)^(1−xᵢ),   p(x|θ) = θ^h (1 − θ)^t   (h = Σxᵢ heads, t = n − h tails)

MLE:  ∇_θ log p(x|θ) = h/θ − t/(1 − θ) = 0  ⇒  θ_MLE = h/n = Σxᵢ/n.

Bayes: p(θ|x) = p(x|θ)p(θ)/p(x). With the prior Beta(a, b) ∝ θ^(a−1)(1 − θ)^(b−1) the
posterior is Beta(a + h, b + t) (conjugacy), and

MAP:  ∇_θ log p(θ|x) = (a′ − 1)/θ − (b′ − 1)/(1 − θ) = 0  ⇒  θ_MAP = (a′ − 1)/(a′ + b′ − 2)

for a′ = a + h > 1 and b′ = b + t > 1. The notes' coin: 7 heads, 3 tails give MLE 0.7; under
the uniform prior Beta(1, 1) the posterior is Beta(8, 4) and MAP = MLE = 0.7; under Beta(2, 2)
it is Beta(9, 5) and MAP = 8/12 = 2/3.

Evidence: p(x) = ∫ θ^h (1 − θ)^t Beta(θ; a, b) dθ = B(a + h, b + t) / B(a, b).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats
from scipy.special import betaln

from qed._validation import check_scalar
from qed.base import BaseEstimator, NotFittedError
from qed.bounds import rounding, strongly_convex_bounds
from qed.certificate import Certificate, scaled_tolerance

__all__ = ["bernoulli_mle", "beta_mode", "BetaBernoulli"]


def _flips(x: Any, name: str = "x") -> tuple[int, int]:
    """Validate coin flips (0/1 numbers or booleans, 1-D) and return (heads, tails)."""
    if x is None:
        raise ValueError(f"{name} is None; pass the coin flips as 0/1 (or False/True).")
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} is the string {x!r}; pass the flips as 0/1 (or booleans).")
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of flips, got shape {arr.shape}; pass "
            f"{name}.ravel() for a single run of flips."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one flip (1 = heads, 0 = tails).")
    if arr.dtype.kind == "b":
        heads = int(np.count_nonzero(arr))
        return heads, int(arr.size) - heads
    if arr.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold 0/1 numbers or booleans, got dtype {arr.dtype}; encode heads as "
            "1 and tails as 0."
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(
            f"{name} contains NaN ({int(np.isnan(arr).sum())} entries); every flip must be 0 or 1."
        )
    ones = arr == 1
    if not (ones | (arr == 0)).all():
        bad = arr[~(ones | (arr == 0))]
        raise ValueError(
            f"{name} must contain only 0 (tails) and 1 (heads), but holds {bad[:5].tolist()}"
            f"{' …' if bad.size > 5 else ''}; threshold or encode your outcomes as 0/1."
        )
    heads = int(np.count_nonzero(ones))
    return heads, int(arr.size) - heads


def bernoulli_mle(x: Any) -> float:
    """Maximum-likelihood estimate of a coin's bias: θ_MLE = Σxᵢ / n.

    From the notes: log p(x|θ) = Σxᵢ log θ + (n − Σxᵢ) log(1 − θ), whose derivative
    Σxᵢ/θ − (n − Σxᵢ)/(1 − θ) vanishes at θ = Σxᵢ/n.

    Parameters
    ----------
    x : array-like of shape (n,), flips as 0/1 or booleans.

    Examples
    --------
    >>> bernoulli_mle([1] * 7 + [0] * 3)
    0.7
    """
    heads, tails = _flips(x)
    return heads / (heads + tails)


def beta_mode(a: float, b: float) -> float:
    """The mode of Beta(a, b), including the boundary cases.

    - a > 1 and b > 1: the interior stationary point (a − 1)/(a + b − 2);
    - a ≤ 1 < b: 0 (the density decreases on (0, 1), to +∞ at 0 when a < 1);
    - b ≤ 1 < a: 1 (mirror image);
    - a = b = 1 (uniform): every θ is a mode; 0.5 is returned.
    - a < 1 and b < 1 (U-shaped, both ends infinite) or a < 1 = b / a = 1 > b: the
      supremum is at an end, 0 if a < b and 1 if b < a.

    Raises ValueError unless a > 0 and b > 0 (finite).
    """
    for name, value in (("a", a), ("b", b)):
        check_scalar(value, name, min_val=0.0, include_min=False, allow_inf=False)
    if a > 1 and b > 1:
        return (a - 1) / (a + b - 2)
    if a <= 1 < b:
        return 0.0
    if b <= 1 < a:
        return 1.0
    if a == b:
        return 0.5
    return 0.0 if a < b else 1.0


def _map_bounds(a: float, b: float, theta: float) -> tuple[dict[str, float], str]:
    """Bounds on the MAP θ̂ of Beta(a, b) as the minimiser of f(θ) = −(a−1)log θ − (b−1)log(1−θ).

    Interior (a, b > 1): f″(θ) = (a−1)/θ² + (b−1)/(1−θ)² ≥ μ = ((a−1)^⅓ + (b−1)^⅓)³ on all
    of (0, 1) (its minimum over θ), so |θ̂ − θ*| ≤ |f′(θ̂)|/μ and f(θ̂) − f* ≤ f′(θ̂)²/(2μ),
    with f′ measured and its rounding added. At a boundary the mode 0 or 1 is exact (no
    arithmetic), so the bounds are 0, except when the posterior has no unique mode.
    """
    objective = "bounds on f(θ) = −log p(θ | x) + const and on |θ̂ − θ*| for the MAP map_"
    if a > 1 and b > 1:
        g1, g2 = (a - 1) / theta, (b - 1) / (1 - theta)
        mu = (np.cbrt(a - 1) + np.cbrt(b - 1)) ** 3 * (1 - rounding(8, 1.0))
        grad = abs(g2 - g1) + rounding(6, g1 + g2)
        return strongly_convex_bounds(grad, mu), objective + f"; μ = {mu:.6g}, the least f″"
    if (a <= 1 < b) or (b <= 1 < a):
        return {"objective_gap": 0.0, "distance": 0.0}, (
            objective + "; the mode is the end point θ = 0 or 1 exactly (f is monotone)"
        )
    return {}, ("no bound: the posterior has no unique mode (uniform, or infinite at both ends)")


class BetaBernoulli(BaseEstimator):
    """Conjugate Beta–Bernoulli coin model: prior Beta(a, b), posterior Beta(a + h, b + t).

    Parameters
    ----------
    a, b : float > 0, the prior pseudo-counts of heads and tails (Beta(1, 1) is uniform).

    Attributes
    ----------
    a_, b_ : posterior parameters a + h, b + t.
    n_heads_, n_tails_ : flips seen so far (over ``fit`` and every ``update``).
    prior_a_, prior_b_ : the prior the posterior was built from (``a``, ``b`` at ``fit``).
    mle_ : h/n.   map_ : the posterior mode (``beta_mode``; interior when a_, b_ > 1 — after
        one flip at least one of them exceeds 1, so it is 0 or 1 only when every flip agreed
        and the prior has a ≤ 1 or b ≤ 1).   mean_ : a_/(a_ + b_).
    posterior_ : a frozen ``scipy.stats.beta(a_, b_)``, rebuilt on access (so the model can be
        saved with ``qed.save`` without pickling a SciPy object).

    Examples
    --------
    >>> coin = BetaBernoulli(2, 2).fit([1] * 7 + [0] * 3)
    >>> coin.a_, coin.b_, coin.mle_, round(coin.map_, 12)
    (9.0, 5.0, 0.7, 0.666666666667)
    """

    def __init__(self, a: float = 1.0, b: float = 1.0) -> None:
        self.a = a
        self.b = b

    def _check_prior(self) -> tuple[float, float]:
        # a prior pseudo-count must be a finite number > 0 (Beta(a, b) is improper otherwise)
        for name in ("a", "b"):
            try:
                check_scalar(
                    getattr(self, name), name, min_val=0, include_min=False, allow_inf=False
                )
            except ValueError as exc:
                raise ValueError(
                    f"{exc} BetaBernoulli's prior Beta(a, b) needs finite pseudo-counts a > 0 "
                    "and b > 0; use a = b = 1 for the uniform prior."
                ) from None
        return float(self.a), float(self.b)

    def fit(self, x: Any, y: Any = None) -> BetaBernoulli:
        """Posterior after the flips ``x`` (1 = heads, 0 = tails), from the prior. Returns self."""
        a, b = self._check_prior()
        heads, tails = _flips(x)
        self.prior_a_, self.prior_b_ = a, b
        self.n_heads_, self.n_tails_ = heads, tails
        self._summarise()
        return self

    def update(self, x: Any) -> BetaBernoulli:
        """Sequential Bayes: today's posterior is tomorrow's prior, so Beta(a_ + h, b_ + t).

        Gives exactly the posterior of one ``fit`` on all flips together. An unfitted model
        is fitted. Returns self.
        """
        if not hasattr(self, "a_"):
            return self.fit(x)
        heads, tails = _flips(x)
        self.n_heads_ += heads
        self.n_tails_ += tails
        self._summarise()
        return self

    def partial_fit(self, x: Any, y: Any = None) -> BetaBernoulli:
        """scikit-learn's name for :meth:`update`."""
        return self.update(x)

    def _summarise(self) -> None:
        h, t = self.n_heads_, self.n_tails_
        self.a_ = self.prior_a_ + h
        self.b_ = self.prior_b_ + t
        self.mle_ = h / (h + t)
        self.map_ = beta_mode(self.a_, self.b_)
        self.mean_ = self.a_ / (self.a_ + self.b_)

    @property
    def posterior_(self) -> Any:
        """The posterior Beta(a_, b_) as a frozen ``scipy.stats.beta``."""
        if "a_" not in self.__dict__:
            raise NotFittedError(
                "This BetaBernoulli instance is not fitted yet. Call 'fit' with the flips first."
            )
        return stats.beta(self.a_, self.b_)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval: P(θ < lo | x) = P(θ > hi | x) = (1 − level)/2."""
        self._check_fitted("a_")
        check_scalar(level, "level", min_val=0, max_val=1, include_min=False, include_max=False)
        lo, hi = stats.beta.interval(level, self.a_, self.b_)
        return float(lo), float(hi)

    def predictive(self) -> float:
        """P(next flip = 1 | x) = ∫ θ p(θ|x) dθ = a_/(a_ + b_) (the posterior mean)."""
        self._check_fitted("a_")
        return self.mean_

    def log_evidence(self) -> float:
        """log p(x) = log B(a + h, b + t) − log B(a, b), the log marginal likelihood of the
        observed sequence of flips (in this order; add log C(n, h) for the count of heads)."""
        self._check_fitted("a_")
        return float(betaln(self.a_, self.b_) - betaln(self.prior_a_, self.prior_b_))

    def certificate(self) -> Certificate:
        """The conditions that make this posterior and its MAP correct.

        - conjugacy: (a_, b_) = (a + h, b + t);
        - MAP: interior (a_, b_ > 1): ∇_θ log p(θ|x) = (a_−1)/θ − (b_−1)/(1−θ) = 0 at map_, and
          the second derivative −(a_−1)/θ² − (b_−1)/(1−θ)² < 0; at a boundary mode the KKT
          sign condition: the derivative has the sign that pushes θ onto that end, everywhere
          on (0, 1) (measured on a grid);
        - MLE (when 0 < h < n): h/θ − t/(1 − θ) = 0 at mle_.
        """
        self._check_fitted("a_")
        cert = Certificate("BetaBernoulli")
        h, t = self.n_heads_, self.n_tails_
        a, b = self.a_, self.b_
        counts = abs(a - (self.prior_a_ + h)) + abs(b - (self.prior_b_ + t))
        cert.add(
            "conjugate_update",
            counts,
            scaled_tolerance(a + b, factor=4.0),
            "(a_, b_) = (a + heads, b + tails)",
        )
        theta = self.map_
        if a > 1 and b > 1:
            g1, g2 = (a - 1) / theta, (b - 1) / (1 - theta)
            # θ is stored rounded (|δθ| ≤ εθ), and a mode near 0 or 1 magnifies that in the
            # far term: the ratio moves by ε(1 + θ/(1 − θ)) or ε(1 + (1 − θ)/θ)
            kappa = 1.0 + max(theta / (1 - theta), (1 - theta) / theta)
            cert.add(
                "map_stationarity",
                abs(g1 - g2) / max(g1 + g2, 1e-300),
                scaled_tolerance(kappa, n=2, factor=64.0),
                "|(a_−1)/θ − (b_−1)/(1−θ)|, relative to its terms",
            )
            curvature = -(a - 1) / theta**2 - (b - 1) / (1 - theta) ** 2
            cert.add(
                "map_second_order",
                max(curvature, 0.0),
                np.finfo(float).tiny,
                "d² log posterior/dθ² < 0 (a maximum)",
            )
        else:
            grid = np.linspace(0, 1, 1025)[1:-1]
            with np.errstate(divide="ignore", invalid="ignore"):
                grad = (a - 1) / grid - (b - 1) / (1 - grid)
            # at θ = 0 the KKT condition is ∇ ≤ 0 on the whole interval (mirror for θ = 1)
            violation = float(np.max(grad)) if theta == 0 else float(np.max(-grad))
            cert.add(
                "map_boundary_kkt",
                max(violation, 0.0),
                np.finfo(float).tiny,
                f"log posterior monotone towards the boundary mode θ = {theta:g} (KKT)",
            )
        if 0 < h < h + t:
            g1, g2 = h / self.mle_, t / (1 - self.mle_)
            cert.add(
                "mle_stationarity",
                abs(g1 - g2) / (g1 + g2),
                scaled_tolerance(1.0, n=2, factor=64.0),
                "|h/θ − t/(1−θ)| relative",
            )
        cert.set_bounds(*_map_bounds(a, b, theta))
        return cert
