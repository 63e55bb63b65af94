"""The coin model of the notes: Bernoulli likelihood, Beta prior, conjugate posterior.

Oracles: the notes' own numbers, SciPy (beta distribution, numerical integration and
maximisation), the chain rule of probability, and hand counts.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

import qed
from qed._validation import NotFittedError
from qed.base import clone
from qed.bayes import BetaBernoulli, bernoulli_mle, beta_mode
from qed.bayes import beta_bernoulli as beta_bernoulli_module

NOTES_FLIPS = [1] * 7 + [0] * 3  # 산정결과 H 7 T 3


# ----------------------------------------------------------------------------- the notes


def test_notes_mle_is_seven_tenths():
    """Notes: θ_MLE = Σxᵢ/n = 7/10."""
    assert bernoulli_mle(NOTES_FLIPS) == 0.7
    assert BetaBernoulli().fit(NOTES_FLIPS).mle_ == 0.7


def test_notes_uniform_prior_gives_beta_8_4_and_map_equal_to_mle():
    """Notes: prior 1 (Beta(1, 1)) × θ⁷(1 − θ)³ = Beta(8, 4); θ_MAP = θ_MLE = 0.7."""
    coin = BetaBernoulli(1, 1).fit(NOTES_FLIPS)
    assert (coin.a_, coin.b_) == (8.0, 4.0)
    assert coin.map_ == pytest.approx(0.7, rel=1e-15)
    assert coin.map_ == pytest.approx(coin.mle_, rel=1e-15)


def test_notes_beta_2_2_prior_gives_beta_9_5_and_map_two_thirds():
    """Notes: θ¹(1 − θ)¹ × θ⁷(1 − θ)³ = Beta(9, 5); θ_MAP = 8/12 = 0.666…"""
    coin = BetaBernoulli(2, 2).fit(NOTES_FLIPS)
    assert (coin.a_, coin.b_) == (9.0, 5.0)
    assert coin.map_ == pytest.approx(2 / 3, rel=1e-15)


def test_docstring_examples_run():
    result = doctest.testmod(beta_bernoulli_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2 and result.failed == 0


# ------------------------------------------------------------------- against SciPy oracles


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("prior", [(1.0, 1.0), (2.0, 2.0), (0.5, 0.5), (3.0, 7.5)])
def test_map_is_the_argmax_of_the_scipy_posterior(seed, prior):
    """θ_MAP maximises log p(θ|x) (SciPy's beta.logpdf, bounded scalar maximisation)."""
    rng = np.random.default_rng(seed)
    flips = rng.random(rng.integers(5, 60)) < rng.uniform(0.2, 0.8)
    if flips.all() or not flips.any():
        flips[0] = not flips[0]
    coin = BetaBernoulli(*prior).fit(flips)
    res = optimize.minimize_scalar(
        lambda t: -stats.beta.logpdf(t, coin.a_, coin.b_),
        bounds=(1e-12, 1 - 1e-12),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert coin.map_ == pytest.approx(res.x, abs=1e-7)
    assert coin.mean_ == pytest.approx(stats.beta.mean(coin.a_, coin.b_), rel=1e-14)


@pytest.mark.parametrize(
    ("prior", "flips", "mode"),
    [
        ((0.5, 3.0), [0, 0, 0], 0.0),  # a_ = 0.5 < 1 < b_: density → ∞ at 0
        ((1.0, 1.0), [1, 1, 1, 1], 1.0),  # a_ = 5 > 1 = b_: density increasing, max at 1
        ((1.0, 0.3), [1], 1.0),  # b_ = 0.3 < 1 < a_
        ((1.0, 1.0), [0], 0.0),
    ],  # a_ = 1 < b_ = 2
)
def test_boundary_modes(prior, flips, mode):
    """When a_ ≤ 1 or b_ ≤ 1 the log posterior is monotone and the mode is the end it rises to."""
    coin = BetaBernoulli(*prior).fit(flips)
    assert coin.map_ == mode
    grid = np.linspace(1e-6, 1 - 1e-6, 2001)
    logpdf = stats.beta.logpdf(grid, coin.a_, coin.b_)
    diffs = np.diff(logpdf)
    assert (diffs <= 1e-12).all() if mode == 0.0 else (diffs >= -1e-12).all()
    assert coin.certificate().holds


def test_beta_mode_all_cases():
    assert beta_mode(8, 4) == pytest.approx(0.7)
    assert beta_mode(0.5, 2) == 0.0 and beta_mode(2, 1) == 1.0
    assert beta_mode(1, 1) == 0.5
    assert beta_mode(0.3, 0.7) == 0.0 and beta_mode(0.7, 0.3) == 1.0


@pytest.mark.parametrize(
    ("a", "b", "h", "t"),
    [
        (1, 1, 7, 3),
        (2, 2, 7, 3),
        (0.5, 0.5, 3, 12),
        (3.5, 1.2, 20, 1),
        (1, 1, 0, 5),
        (0.7, 4.0, 9, 0),
    ],
)
def test_log_evidence_matches_numerical_integration(a, b, h, t):
    """p(x) = ∫ θ^h (1 − θ)^t Beta(θ; a, b) dθ (scipy.integrate.quad) = B(a + h, b + t)/B(a, b)."""
    flips = [1] * h + [0] * t
    coin = BetaBernoulli(a, b).fit(flips)

    def integrand(theta):
        return theta**h * (1 - theta) ** t * stats.beta.pdf(theta, a, b)

    value, err = integrate.quad(
        integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200, points=[h / (h + t)]
    )
    assert coin.log_evidence() == pytest.approx(math.log(value), rel=1e-8, abs=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_log_evidence_is_the_sum_of_sequential_predictive_logs(seed):
    """Chain rule: log p(x₁…xₙ) = Σ log p(xᵢ | x₁…xᵢ₋₁), each factor a posterior predictive."""
    rng = np.random.default_rng(seed)
    flips = (rng.random(40) < 0.3).astype(int)
    a, b = rng.uniform(0.3, 4, size=2)
    coin = BetaBernoulli(a, b).fit(flips[:1])
    total = math.log(a / (a + b)) if flips[0] else math.log(b / (a + b))
    for x in flips[1:]:
        p1 = coin.predictive()
        total += math.log(p1 if x else 1 - p1)
        coin.update([x])
    assert coin.log_evidence() == pytest.approx(total, rel=1e-12)


def test_predictive_is_the_posterior_mean_by_integration():
    coin = BetaBernoulli(2, 3).fit([1, 0, 1, 1, 0, 1])
    value, _ = integrate.quad(lambda t: t * coin.posterior_.pdf(t), 0, 1, epsabs=0, epsrel=1e-13)
    assert coin.predictive() == pytest.approx(value, rel=1e-11)


@pytest.mark.parametrize("level", [0.5, 0.9, 0.95, 0.999])
def test_equal_tailed_interval(level):
    """P(θ < lo) = P(θ > hi) = (1 − level)/2 under SciPy's Beta cdf."""
    coin = BetaBernoulli(2, 2).fit(NOTES_FLIPS)
    lo, hi = coin.interval(level)
    assert stats.beta.cdf(lo, 9, 5) == pytest.approx((1 - level) / 2, rel=1e-9)
    assert stats.beta.sf(hi, 9, 5) == pytest.approx((1 - level) / 2, rel=1e-9)
    assert 0 < lo < coin.map_ < hi < 1


# ------------------------------------------------------------------- sequential updating


@pytest.mark.parametrize("seed", range(5))
def test_sequential_updates_equal_one_batch(seed):
    """Bayes is sequential: the posterior after update(x₂) from fit(x₁) is that of fit(x₁ ∪ x₂)."""
    rng = np.random.default_rng(seed)
    flips = rng.random(50) < 0.6
    cuts = np.sort(rng.choice(np.arange(1, 50), size=3, replace=False))
    parts = np.split(flips, cuts)
    sequential = BetaBernoulli(1.5, 2.5).fit(parts[0])
    for part in parts[1:]:
        sequential.update(part)
    batch = BetaBernoulli(1.5, 2.5).fit(flips)
    for attr in ("a_", "b_", "mle_", "map_", "mean_", "n_heads_", "n_tails_"):
        assert getattr(sequential, attr) == getattr(batch, attr)
    assert sequential.log_evidence() == pytest.approx(batch.log_evidence(), rel=1e-14)


def test_partial_fit_and_update_on_unfitted_model_fit():
    a = BetaBernoulli(2, 2).partial_fit([1, 1]).partial_fit([0])
    b = BetaBernoulli(2, 2).update([1, 1, 0])
    assert (a.a_, a.b_) == (b.a_, b.b_) == (4.0, 3.0)


def test_fit_forgets_previous_data():
    coin = BetaBernoulli().fit([1, 1, 1])
    coin.fit([0])
    assert (coin.a_, coin.b_, coin.n_heads_) == (1.0, 2.0, 0)


@settings(max_examples=60, deadline=None)
@given(
    flips=st.lists(st.booleans(), min_size=1, max_size=200),
    a=st.floats(0.05, 50),
    b=st.floats(0.05, 50),
)
def test_properties_of_any_posterior(flips, a, b):
    """Posterior mean lies between prior mean and MLE; MAP in [0, 1]; the certificate holds."""
    coin = BetaBernoulli(a, b).fit(flips)
    prior_mean = a / (a + b)
    lo, hi = sorted((prior_mean, coin.mle_))
    assert lo - 1e-12 <= coin.mean_ <= hi + 1e-12
    assert 0.0 <= coin.map_ <= 1.0
    assert coin.certificate().holds
    assert coin.log_evidence() <= 0.0


# ------------------------------------------------------------------------------ certificate


@pytest.mark.parametrize("a, b, flips", [(31.0, 0.05, [False]), (0.05, 31.0, [True])])
def test_certificate_holds_for_a_mode_near_the_boundary(a, b, flips):
    """A MAP at 0.9983 (hypothesis found it): 1 − θ keeps only ~3 digits fewer of θ's
    rounding, so the stationarity residual's tolerance scales with 1/min(θ, 1 − θ)."""
    coin = BetaBernoulli(a, b).fit(flips)
    assert coin.certificate().holds
    moved = BetaBernoulli(a, b).fit(flips)
    moved.map_ = coin.map_ * (1 - 1e-9) if coin.map_ > 0.5 else coin.map_ * (1 + 1e-9)
    assert not moved.certificate()["map_stationarity"].holds


def test_certificate_holds_and_names_the_conditions():
    cert = BetaBernoulli(2, 2).fit(NOTES_FLIPS).certificate()
    assert cert.holds
    names = [c.name for c in cert.conditions]
    assert "conjugate_update" in names
    assert "map_stationarity" in names


def test_certificate_fails_for_a_wrong_map_or_posterior():
    """The certificate measures, it does not assume: tampered models fail it."""
    coin = BetaBernoulli(2, 2).fit(NOTES_FLIPS)
    coin.map_ = 0.7  # the MLE, not the MAP under Beta(2, 2)
    assert not coin.certificate()["map_stationarity"].holds
    coin = BetaBernoulli(2, 2).fit(NOTES_FLIPS)
    coin.a_ += 1e-6
    assert not coin.certificate()["conjugate_update"].holds
    coin = BetaBernoulli(0.5, 3).fit([0, 0])
    coin.map_ = 1.0  # the wrong end
    assert not coin.certificate().holds


# ------------------------------------------------------------------------ estimator API


def test_get_params_clone_and_set_params():
    coin = BetaBernoulli(a=2.0, b=3.0)
    assert coin.get_params() == {"a": 2.0, "b": 3.0}
    fitted = coin.fit([1, 0])
    twin = clone(fitted)
    assert twin.get_params() == {"a": 2.0, "b": 3.0} and not hasattr(twin, "a_")
    assert twin.set_params(a=5.0).fit([1]).a_ == 6.0
    assert repr(BetaBernoulli(b=2.0)) == "BetaBernoulli(b=2.0)"


def test_save_and_load_keep_the_posterior(tmp_path):
    coin = BetaBernoulli(2, 2).fit(NOTES_FLIPS)
    path = tmp_path / "coin.qed"
    qed.save(coin, path)
    back = qed.load(path)
    assert isinstance(back, BetaBernoulli)
    assert (back.a_, back.b_, back.map_) == (coin.a_, coin.b_, coin.map_)
    assert back.posterior_.ppf(0.3) == coin.posterior_.ppf(0.3)
    assert back.update([0]).b_ == 6.0
    assert back.certificate().holds


def test_unfitted_model_raises_not_fitted():
    coin = BetaBernoulli()
    for call in (
        lambda: coin.posterior_,
        coin.interval,
        coin.predictive,
        coin.log_evidence,
        coin.certificate,
    ):
        with pytest.raises(NotFittedError):
            call()
    assert not hasattr(coin, "posterior_")


def test_posterior_is_a_frozen_scipy_beta():
    post = BetaBernoulli(2, 2).fit(NOTES_FLIPS).posterior_
    assert post.args == (9.0, 5.0)
    assert post.mean() == pytest.approx(9 / 14)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("prior", [(0, 1), (1, 0), (-1, 2), (float("nan"), 1), (1, float("inf"))])
def test_invalid_prior(prior):
    with pytest.raises(ValueError, match=r"\b[ab]\b"):
        BetaBernoulli(*prior).fit([1, 0])


def test_non_numeric_prior():
    with pytest.raises(TypeError, match="a"):
        BetaBernoulli(a="1").fit([1, 0])


@pytest.mark.parametrize(
    ("flips", "match"),
    [
        ([0, 1, 2], "only 0"),
        ([0.5, 1], "only 0"),
        ([-1, 1], "only 0"),
        ([1, float("nan")], "NaN"),
        ([], "empty"),
        (np.zeros((2, 3)), "1-D"),
        (["h", "t"], "0/1"),
        ("HHT", "string"),
        (None, "None"),
    ],
)
def test_invalid_flips(flips, match):
    with pytest.raises(ValueError, match=match):
        BetaBernoulli().fit(flips)
    with pytest.raises(ValueError, match=match):
        bernoulli_mle(flips)


def test_update_validates_too():
    coin = BetaBernoulli().fit([1])
    with pytest.raises(ValueError, match="empty"):
        coin.update([])
    assert coin.a_ == 2.0  # unchanged by the failed update


def test_booleans_floats_and_column_vectors_are_flips():
    expected = BetaBernoulli().fit([1, 0, 1])
    for flips in ([True, False, True], [1.0, 0.0, 1.0], np.array([[1], [0], [1]])):
        coin = BetaBernoulli().fit(flips)
        assert (coin.a_, coin.b_) == (expected.a_, expected.b_)


@pytest.mark.parametrize("level", [0, 1, 1.5, -0.1])
def test_invalid_interval_level(level):
    with pytest.raises(ValueError, match="level"):
        BetaBernoulli().fit([1]).interval(level)
