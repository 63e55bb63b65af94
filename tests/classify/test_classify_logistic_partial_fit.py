"""LogisticRegression.partial_fit: mini-batch SGD over a stream, checked step by step against
torch (the same batches, torch.optim.SGD on the same averaged loss), and its certificate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse

from qed.classify import LogisticRegression


def _data(seed, n=300, d=4, k=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)) + rng.gumbel(size=(n, k)), axis=1)
    return X, y, rng.uniform(0.5, 2.0, size=n)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_stream_equals_torch_sgd_on_the_same_batches(k, seed, as_sparse):
    """Two chunks, batches drawn from the estimator's Generator: the parameters equal torch's
    SGD on Σ_B sᵢ·CE / Σ_B sᵢ + ‖W‖²/(2C·S), S the weight of the rows seen so far."""
    X, y, w = _data(seed, k=k)
    C, lr, batch = 0.5, 0.3, 64
    model = LogisticRegression(C=C, optimizer={"name": "sgd", "lr": lr}, batch_size=batch)
    model.set_params(random_state=seed)
    chunks = [slice(0, 180), slice(180, 300)]
    for i, rows in enumerate(chunks):
        Xc = sparse.csr_matrix(X[rows]) if as_sparse else X[rows]
        model.partial_fit(
            Xc, y[rows], classes=np.arange(k) if i == 0 else None, sample_weight=w[rows]
        )
    # torch, the same updates
    kk = 1 if k == 2 else k
    W = torch.zeros((kk, X.shape[1]), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(kk, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([W, b], lr=lr)
    gen = np.random.default_rng(seed)
    seen = 0.0
    for rows in chunks:
        Xc, yc, wc = X[rows], y[rows], w[rows]
        seen += wc.sum()
        order = gen.permutation(len(yc))
        for start in range(0, len(yc), batch):
            idx = order[start : start + batch]
            xb, yb = torch.tensor(Xc[idx]), torch.tensor(yc[idx])
            wb = torch.tensor(wc[idx])
            z = xb @ W.T + b
            if k == 2:
                ce = torch.nn.functional.binary_cross_entropy_with_logits(
                    z[:, 0], yb.double(), reduction="none"
                )
            else:
                ce = torch.nn.functional.cross_entropy(z, yb, reduction="none")
            loss = (wb * ce).sum() / wb.sum() + (W**2).sum() / (2 * C * seen)
            opt.zero_grad()
            loss.backward()
            opt.step()
    np.testing.assert_allclose(model.coef_, W.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert model.n_iter_[0] == 2 and len(model.loss_curve_) == 2


def test_first_full_batch_call_is_one_gradient_step_of_fit():
    """One chunk as one batch with the default step 1/β: exactly fit(solver="gd", max_iter=1)."""
    import warnings

    X, y, _ = _data(3)
    stream = LogisticRegression(batch_size=len(y)).partial_fit(X, y, classes=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gd = LogisticRegression(solver="gd", max_iter=1).fit(X, y)
    np.testing.assert_allclose(stream.coef_, gd.coef_, rtol=1e-12)
    np.testing.assert_allclose(stream.intercept_, gd.intercept_, rtol=1e-12, atol=1e-15)


def test_many_passes_approach_the_fit_and_the_certificate_says_how_far():
    X, y, _ = _data(4, n=2000)
    model = LogisticRegression(optimizer={"name": "adam", "lr": 0.05}, random_state=0)
    model.partial_fit(X[:500], y[:500], classes=[0, 1])
    early = model.certificate(X[:500], y[:500])["stationarity"].value
    for _ in range(8):
        for s in range(0, 2000, 500):
            model.partial_fit(X[s : s + 500], y[s : s + 500])
    late = model.certificate(X, y)
    ref = LogisticRegression().fit(X, y)
    assert late["stationarity"].value < early / 3

    def objective(m):  # Σ −log p + ‖W‖²/(2C), the objective of fit
        logp = m.predict_log_proba(X)[np.arange(len(y)), y]
        return -logp.sum() + 0.5 * np.sum(m.coef_**2) / m.C

    assert objective(ref) <= objective(model) <= 1.01 * objective(ref)
    # honest either way: a finite bound holds; an SGD iterate too far for one is reported as
    # not stationary, with infinite bounds and the note saying why (the case with this lr)
    if np.isfinite(late.bounds["distance"]):
        theta = np.r_[model.coef_.ravel(), model.intercept_]
        star = np.r_[ref.coef_.ravel(), ref.intercept_]
        assert np.linalg.norm(theta - star) <= late.bounds["distance"]
    else:
        assert not late.holds and "infinite" in late.bounds_note


def test_stream_survives_saving_between_chunks(tmp_path):
    import qed

    X, y, _ = _data(5, k=3)
    a = LogisticRegression(optimizer={"name": "adam", "lr": 0.01}, random_state=1)
    b = LogisticRegression(optimizer={"name": "adam", "lr": 0.01}, random_state=1)
    for i, s in enumerate(range(0, 300, 100)):
        classes = [0, 1, 2] if i == 0 else None
        a.partial_fit(X[s : s + 100], y[s : s + 100], classes=classes)
        b.partial_fit(X[s : s + 100], y[s : s + 100], classes=classes)
        qed.save(b, tmp_path / "b.qed")
        b = qed.load(tmp_path / "b.qed")
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize(
    ("first", "then", "match"),
    [
        ({}, None, "classes must be passed on the first call"),
        ({"classes": [0]}, None, "at least 2 labels"),
        ({"classes": [0, 1]}, {"classes": [0, 1, 2]}, "differs from the first call"),
        ({"classes": [0, 1]}, {"y": [0, 5]}, r"labels \[5\] not in classes"),
        ({"classes": [0, 1]}, {"X": np.ones((2, 7))}, "features"),
    ],
)
def test_bad_stream_input(first, then, match):
    X, y = np.random.default_rng(0).normal(size=(2, 3)), np.array([0, 1])
    model = LogisticRegression()
    if then is None:
        with pytest.raises(ValueError, match=match):
            model.partial_fit(X, y, **first)
        return
    model.partial_fit(X, y, **first)
    kw = {"X": X, "y": y, **then}
    with pytest.raises(ValueError, match=match):
        model.partial_fit(kw.pop("X"), kw.pop("y"), **kw)


def test_balanced_class_weight_cannot_stream():
    with pytest.raises(ValueError, match="balanced"):
        LogisticRegression(class_weight="balanced").partial_fit(
            [[0.0], [1.0]], [0, 1], classes=[0, 1]
        )
