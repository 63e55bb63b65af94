"""FALKON's centres by approximate ridge leverage scores (KernelRidge(center_selection=)).

The oracle for the scores is the definition ℓᵢ = [K(K + λI)⁻¹]ᵢᵢ, with K from scikit-learn's
``pairwise_kernels`` and the solve from scipy: the one-level estimate is exact when its
subsample is every row. The draw itself is judged by what it is for: a Nyström
approximation of K closer than uniform centres give on uneven data, and with every row a
centre the exact kernel ridge solution (scikit-learn's KernelRidge).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.metrics.pairwise import pairwise_kernels

from qed.linear import KernelRidge
from qed.linear._centers import approximate_leverage_scores, leverage_centers, uniform_centers
from qed.linear._falkon import NystroemKernel

KERNELS = [
    ("rbf", {"gamma": 0.3}),
    ("linear", {}),
    ("poly", {"gamma": 0.5, "degree": 2, "coef0": 1.0}),
]


def _uneven(seed, n, d=3):
    """A tight core and a sparse, wide shell (5% of the rows): uniform draws miss the shell."""
    rng = np.random.default_rng(seed)
    Z = np.vstack(
        [rng.standard_normal((n - n // 20, d)) * 0.3, rng.standard_normal((n // 20, d)) * 3.0]
    )
    rng.shuffle(Z)
    y = np.sin(2 * Z[:, 0]) + Z[:, 1] ** 2 / (1 + Z[:, 1] ** 2) + 0.05 * rng.standard_normal(n)
    return Z, y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("kernel", "params"), KERNELS)
def test_scores_from_every_row_are_the_exact_ridge_leverage_scores(seed, kernel, params):
    rng = np.random.default_rng(seed)
    X, alpha = rng.standard_normal((200, 4)), float(rng.uniform(0.05, 2.0))
    K = pairwise_kernels(X, metric=kernel, **params)
    exact = np.diag(linalg.solve(K + alpha * np.eye(len(X)), K, assume_a="pos"))
    kern = NystroemKernel(kernel, X, params.get("gamma"), params.get("degree", 3),
                          params.get("coef0", 1))  # fmt: skip
    scores = approximate_leverage_scores(kern, X, alpha)
    np.testing.assert_allclose(scores, exact, rtol=1e-8, atol=1e-10)


def test_scores_of_a_callable_kernel_equal_the_named_one():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 2))

    def k(a, b, gamma):
        return float(np.exp(-gamma * np.sum((a - b) ** 2)))

    named = approximate_leverage_scores(NystroemKernel("rbf", X[:20], 0.7), X, 0.1)
    called = approximate_leverage_scores(
        NystroemKernel(k, X[:20], kernel_params={"gamma": 0.7}), X, 0.1
    )
    np.testing.assert_allclose(called, named, rtol=1e-10, atol=1e-12)
    assert np.all((named >= 0) & (named <= 1))  # the exact scores' range


def _nystroem_trace_error(K, idx):
    Kn = K[:, idx]
    approx = Kn @ np.linalg.lstsq(K[np.ix_(idx, idx)], Kn.T, rcond=1e-10)[0]
    return float(np.trace(K - approx))


@pytest.mark.parametrize("m", [100, 200])
def test_leverage_centres_carry_uneven_data_better_than_uniform_ones(m):
    X, _ = _uneven(1, 2000)
    K = pairwise_kernels(X, metric="rbf", gamma=1.0)
    kernel_of = lambda C: NystroemKernel("rbf", C, 1.0)  # noqa: E731
    uniform = [_nystroem_trace_error(K, uniform_centers(X, m, s)[1]) for s in range(5)]
    leverage = [
        _nystroem_trace_error(K, leverage_centers(X, m, 1e-2, kernel_of, s)[1]) for s in range(5)
    ]
    assert np.mean(leverage) < 0.8 * np.mean(uniform)


def test_leverage_centres_fit_uneven_data_better_than_uniform_ones():
    X, y = _uneven(1, 4000)
    Xv, yv = _uneven(2, 4000)
    kw = {"alpha": 1e-2, "kernel": "rbf", "gamma": 1.0, "solver": "falkon", "n_centers": 100}
    kw["max_iter"] = 2000  # uniform centres miss the shell, and their CG converges slowly

    def rmse(selection, seed):
        model = KernelRidge(center_selection=selection, random_state=seed, **kw)
        model.fit(X, y)
        assert model.certificate().holds
        return float(np.sqrt(np.mean((model.predict(Xv) - yv) ** 2)))

    uniform = [rmse("uniform", s) for s in range(4)]
    leverage = [rmse("leverage", s) for s in range(4)]
    assert np.mean(leverage) < np.mean(uniform)


@pytest.mark.parametrize("seed", [0, 4])
def test_every_row_a_centre_is_the_exact_solution(seed):
    X, y = _uneven(seed, 150)
    model = KernelRidge(
        alpha=0.3,
        kernel="rbf",
        gamma=0.5,
        solver="falkon",
        n_centers=150,
        center_selection="leverage",
        random_state=seed,
        tol=1e-13,
        max_iter=1000,
    ).fit(X, y)
    assert sorted(model.center_indices_) == list(range(150))
    ref = SkKernelRidge(alpha=0.3, kernel="rbf", gamma=0.5).fit(X, y)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-7, atol=1e-8)


def test_draw_is_reproducible_distinct_and_equal_for_dask_and_torch():
    X, y = _uneven(5, 600)
    kw = {"kernel": "rbf", "solver": "falkon", "n_centers": 40, "center_selection": "leverage"}
    kw.update(tol=1e-12, max_iter=1000)
    a = KernelRidge(random_state=7, **kw).fit(X, y)
    b = KernelRidge(random_state=7, **kw).fit(X, y)
    np.testing.assert_array_equal(a.center_indices_, b.center_indices_)
    assert len(set(a.center_indices_.tolist())) == 40
    c = KernelRidge(random_state=np.random.default_rng(7), **kw).fit(X, y)
    assert len(set(c.center_indices_.tolist())) == 40
    da = pytest.importorskip("dask.array")
    d = KernelRidge(random_state=7, **kw).fit(da.from_array(X, chunks=(150, 3)), y)
    np.testing.assert_array_equal(d.center_indices_, a.center_indices_)
    np.testing.assert_allclose(d.predict(X), a.predict(X), rtol=1e-8, atol=1e-10)
    torch = pytest.importorskip("torch")
    t = KernelRidge(random_state=7, **kw).fit(torch.from_numpy(X), torch.from_numpy(y))
    np.testing.assert_array_equal(t.center_indices_, a.center_indices_)
    np.testing.assert_allclose(t.predict(torch.from_numpy(X)).numpy(), a.predict(X), rtol=1e-8,
                               atol=1e-10)  # fmt: skip


def test_a_pool_of_candidates_bounds_the_scoring(monkeypatch):
    """Beyond 10·m rows only a uniform pool of 10·m candidates is scored; a row's score is
    the one it gets among all n rows (J stands for n rows either way)."""
    import qed.linear._centers as centers

    X, y = _uneven(6, 3000)
    kern_J = NystroemKernel("rbf", X[:40], 1.0)
    every = approximate_leverage_scores(kern_J, X, 0.05)
    pool = np.sort(np.random.default_rng(0).choice(3000, 400, replace=False))
    np.testing.assert_allclose(
        approximate_leverage_scores(kern_J, X[pool], 0.05, n=3000), every[pool], rtol=1e-12
    )
    scored = []
    real = centers.approximate_leverage_scores

    def spy(kern, rows, alpha, n=None):
        scored.append((len(rows), n))
        return real(kern, rows, alpha, n)

    monkeypatch.setattr(centers, "approximate_leverage_scores", spy)
    model = KernelRidge(
        kernel="rbf", gamma=1.0, solver="falkon", n_centers=30, center_selection="leverage",
        random_state=1,
    ).fit(X, y)  # fmt: skip
    assert scored == [(300, 3000)]
    assert len(set(model.center_indices_.tolist())) == 30


def test_weighted_preconditioner_cuts_cg_iterations(monkeypatch):
    """Leverage-drawn centres break the uniform FALKON preconditioner's K_nmᵀK_nm ≈
    (n/m)K_mm²; weighting each centre by 1/(n·pⱼ) restores it: fewer CG iterations (146–175
    against 78–102 here when measured), the same solution."""
    import qed.linear._falkon_fit as falkon_fit

    X, y = _uneven(1, 4000)
    kw = {"alpha": 1e-2, "kernel": "rbf", "gamma": 1.0, "solver": "falkon", "n_centers": 100}
    kw.update(center_selection="leverage", max_iter=2000, tol=1e-9)
    weighted = [KernelRidge(random_state=s, **kw).fit(X, y) for s in range(3)]
    real = falkon_fit._centers
    monkeypatch.setattr(falkon_fit, "_centers", lambda *a: (*real(*a)[:2], None))
    plain = [KernelRidge(random_state=s, **kw).fit(X, y) for s in range(3)]
    for a, b in zip(weighted, plain, strict=True):
        np.testing.assert_array_equal(a.center_indices_, b.center_indices_)
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6, atol=1e-6)
    iters_w, iters_p = [m.n_iter_ for m in weighted], [m.n_iter_ for m in plain]
    assert np.mean(iters_w) < 0.8 * np.mean(iters_p), (iters_w, iters_p)


def test_rank_deficient_subsample_kernel_is_factored_with_jitter():
    """A linear kernel on 3 features with q = 50 rows makes K_JJ rank 3; at alpha = 1e-14 its
    shift is below rounding and a plain Cholesky fails. The draw still succeeds."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 3))
    kern_J = NystroemKernel("linear", X[:50])
    scores = approximate_leverage_scores(kern_J, X, 1e-14)
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
    C, idx, weights = leverage_centers(X, 50, 1e-14, lambda C: NystroemKernel("linear", C), 0)
    assert len(set(idx.tolist())) == 50 and np.all(np.isfinite(weights))
