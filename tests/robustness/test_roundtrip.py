"""qed.save/qed.load round-trips every estimator, module and optimizer exactly, and training
resumed in a fresh process continues bit for bit (issue 8: files and resumable training)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import qed
from qed.autograd import Tensor
from qed.bayes import BetaBernoulli
from qed.classify import SVC, LogisticRegression
from qed.linear import KernelRidge, LinearRegression, PolynomialFeatures, Ridge
from qed.nn import BatchNorm1d, Linear, MLPClassifier, MLPRegressor, ReLU, Sequential
from qed.optim import SGD, Adam, RMSProp, schedules

RNG = np.random.default_rng(1)
X = RNG.standard_normal((60, 4))
Y_REG = X @ np.array([1.0, -1.0, 0.5, 2.0]) + 0.1 * RNG.standard_normal(60)
Y_BIN = np.where(X[:, 0] + 0.3 * RNG.standard_normal(60) > 0, "yes", "no")
Y_MULTI = np.digitize(X[:, 1], [-0.5, 0.5])

MODELS = [
    (LinearRegression(), Y_REG, ["predict"]),
    (LinearRegression(solver="qr", fit_intercept=False), Y_REG, ["predict"]),
    (Ridge(alpha=0.3), np.c_[Y_REG, -Y_REG], ["predict"]),
    (KernelRidge(alpha=0.1, kernel="rbf", gamma=0.2), Y_REG, ["predict"]),
    (KernelRidge(alpha=0.1, kernel="poly", degree=2), Y_REG, ["predict"]),
    (PolynomialFeatures(degree=3), None, ["transform"]),
    (LogisticRegression(C=2.0), Y_BIN, ["predict", "predict_proba", "decision_function"]),
    (LogisticRegression(solver="lbfgs"), Y_MULTI, ["predict", "predict_proba"]),
    (SVC(C=1.0), Y_BIN, ["predict", "decision_function"]),
    (SVC(kernel="linear", C=0.5), Y_MULTI, ["predict", "decision_function"]),
    (
        MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, epochs=3, random_state=0),
        Y_MULTI,
        ["predict", "predict_proba"],
    ),
    (MLPRegressor(hidden_layer_sizes=(8, 4), epochs=3, random_state=0), Y_REG, ["predict"]),
]


@pytest.mark.parametrize(
    "model, y, methods",
    MODELS,
    ids=lambda v: repr(v)[:40] if not isinstance(v, (np.ndarray, list)) else "",
)
def test_every_estimator_round_trips_bit_for_bit(tmp_path, model, y, methods):
    model.fit(X, y) if y is not None else model.fit(X)
    path = tmp_path / "m.qed"
    qed.save(model, path)
    loaded = qed.load(path)
    assert type(loaded) is type(model) and loaded.get_params().keys() == model.get_params().keys()
    X_new = RNG.standard_normal((7, 4))
    for method in methods:
        a, b = getattr(model, method)(X_new), getattr(loaded, method)(X_new)
        assert a.dtype == b.dtype and np.array_equal(a, b), method
    if hasattr(model, "certificate") and y is not None:
        assert loaded.certificate(X, y).to_dict() == model.certificate(X, y).to_dict()


@pytest.mark.parametrize(
    "model, y, methods",
    MODELS,
    ids=lambda v: repr(v)[:40] if not isinstance(v, (np.ndarray, list)) else "",
)
def test_every_estimator_inside_a_sklearn_pipeline_round_trips_bit_for_bit(
    tmp_path, model, y, methods
):
    """The same estimators behind scikit-learn's preprocessing, saved as one Pipeline."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    from qed.base import clone

    pipe = make_pipeline(StandardScaler(), MinMaxScaler(feature_range=(-1, 1)), clone(model))
    pipe.fit(X, y) if y is not None else pipe.fit(X)
    qed.save(pipe, tmp_path / "p.qed")
    loaded = qed.load(tmp_path / "p.qed")
    assert [type(s) for s in loaded.named_steps.values()] == [
        type(s) for s in pipe.named_steps.values()
    ]
    X_new = RNG.standard_normal((7, 4))
    for method in methods:
        a, b = getattr(pipe, method)(X_new), getattr(loaded, method)(X_new)
        assert a.dtype == b.dtype and np.array_equal(a, b), method


def test_beta_bernoulli_round_trips(tmp_path):
    m = BetaBernoulli(2, 3).fit([1, 0, 1, 1])
    qed.save(m, tmp_path / "b.qed")
    u = qed.load(tmp_path / "b.qed")
    assert (u.a_, u.b_, u.map_) == (m.a_, m.b_, m.map_)
    assert u.interval(0.9) == m.interval(0.9)
    assert u.posterior_.pdf(0.3) == m.posterior_.pdf(0.3)


def test_module_with_batchnorm_statistics_round_trips(tmp_path):
    net = Sequential(
        Linear(4, 6, rng=np.random.default_rng(0)),
        BatchNorm1d(6),
        ReLU(),
        Linear(6, 2, rng=np.random.default_rng(1)),
    )
    net.train()
    for _ in range(3):
        net(Tensor(RNG.standard_normal((16, 4))))
    net.eval()
    qed.save(net, tmp_path / "net.qed")
    loaded = qed.load(tmp_path / "net.qed")
    loaded.eval()
    xb = Tensor(RNG.standard_normal((5, 4)))
    assert np.array_equal(net(xb).data, loaded(xb).data)
    for (k, v), (k2, v2) in zip(net.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert k == k2 and np.array_equal(np.asarray(v), np.asarray(v2))


@pytest.mark.parametrize(
    "make",
    [
        lambda p: Adam(p, lr=schedules.warmup(schedules.cosine(0.05, 40), 5)),
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda p: RMSProp(p, lr=0.01),
    ],
)
def test_optimizer_state_round_trips_and_resumes(tmp_path, make):
    A = RNG.standard_normal((5, 5))
    H = A @ A.T + np.eye(5)

    def run(params, opt, steps):
        for _ in range(steps):
            params[0].grad = H @ params[0].data - 1.0
            opt.step()

    p1 = [Tensor(np.ones(5))]
    o1 = make(p1)
    run(p1, o1, 10)
    qed.save({"params": p1, "opt": o1}, tmp_path / "o.qed")
    run(p1, o1, 10)
    state = qed.load(tmp_path / "o.qed")
    run(state["params"], state["opt"], 10)
    assert np.array_equal(state["params"][0].data, p1[0].data)


SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import qed
    from qed.nn import {cls}
    from qed.optim import schedules
    lr = schedules.warmup(schedules.cosine(0.01, 30), 4)
    X = np.random.default_rng(0).standard_normal((120, 5)).astype(np.{dtype})
    y = {target}
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "first":
        m = {cls}(hidden_layer_sizes=(16,), batch_norm=True, epochs=2, batch_size=32,
                  optimizer="{opt}", schedule=lr, random_state=3, warm_start=True)
        qed.save(m.fit(X, y), path)
    elif mode == "second":
        m = qed.load(path).fit(X, y)
    else:
        m = {cls}(hidden_layer_sizes=(16,), batch_norm=True, epochs=4, batch_size=32,
                  optimizer="{opt}", schedule=lr, random_state=3)
        m.fit(X, y)
    net = m.module_
    print(json.dumps({{"params": [p.data.tolist() for p in net.parameters()],
                      "state": {{k: np.asarray(v).tolist() for k, v in net.state_dict().items()}},
                      "pred": m.predict(X).tolist()}}))
""")


@pytest.mark.parametrize(
    "cls, target, opt, dtype",
    [
        ("MLPClassifier", "(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)", "adam", "float64"),
        ("MLPRegressor", "X @ np.arange(5.0)", "sgd", "float32"),
    ],
)
def test_two_plus_two_epochs_in_fresh_processes_equal_four(tmp_path, cls, target, opt, dtype):
    """Train 2 epochs, save, load in a new process, train 2 more == 4 epochs, bit for bit."""
    script = tmp_path / "train.py"
    script.write_text(SCRIPT.format(cls=cls, target=target, opt=opt, dtype=dtype))
    path = str(tmp_path / "mlp.qed")

    def run(mode):
        out = subprocess.run(
            [sys.executable, str(script), mode, path], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    run("first")
    resumed = run("second")
    straight = run("straight")
    assert resumed == straight  # weights, batch-norm statistics and predictions, exactly
