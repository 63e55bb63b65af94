"""The MLP trainer: scikit-learn's stopping rules (checked against scikit-learn's own
counter), early stopping and restored weights, sample and class weights (against torch),
partial_fit, scheduler objects as ``schedule``, and the progress bar."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils.class_weight import compute_class_weight

import qed
from qed.nn import MLPClassifier, MLPRegressor
from qed.nn.training import update_no_improvement
from qed.optim import lr_scheduler as L
from qed.optim import schedules


def _data(seed=0, n=240, d=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8)
    return X, y


# ------------------------------------------------------------------ sklearn's counters


def _sklearn_training_loss_counter(losses, tol, n_iter_no_change):
    """scikit-learn's own ``_update_no_improvement_count`` fed a loss sequence."""
    sk = SkMLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change)
    sk.loss_curve_, sk.best_loss_, sk._no_improvement_count = [], np.inf, 0
    out = []
    for loss in losses:
        sk.loss_curve_.append(loss)
        sk._update_no_improvement_count(False, None, None, None)
        out.append((sk._no_improvement_count, sk.best_loss_))
    return out


def _sklearn_validation_counter(scores, tol, n_iter_no_change):
    """The same with early stopping: scikit-learn's counter fed a validation-score sequence
    (its ``_score`` replaced by the sequence); also whether it kept the weights."""
    sk = SkMLPClassifier(tol=tol, n_iter_no_change=n_iter_no_change, early_stopping=True)
    it = iter(scores)
    sk._score = lambda X, y, sample_weight=None: next(it)
    sk.validation_scores_, sk.best_validation_score_, sk._no_improvement_count = [], -np.inf, 0
    sk.coefs_, sk.intercepts_, sk._best_coefs = [np.zeros(1)], [np.zeros(1)], None
    out = []
    for _ in scores:
        before = sk._best_coefs
        sk._update_no_improvement_count(True, None, None, None)
        out.append(
            (sk._no_improvement_count, sk.best_validation_score_, sk._best_coefs is not before)
        )
    return out


def _stop_epoch(counts, n_iter_no_change):
    """scikit-learn stops after the first epoch whose count exceeds n_iter_no_change."""
    for k, c in enumerate(counts, start=1):
        if c > n_iter_no_change:
            return k
    return len(counts)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("tol", [0.0, 1e-4, 0.05])
def test_counter_equals_sklearn_on_random_sequences(seed, tol):
    rng = np.random.default_rng(seed)
    losses = list(np.round(1 / (1 + np.arange(60)) + rng.normal(0, 0.02, 60), 3))
    count, best, ours = 0, np.inf, []
    for v in losses:
        count, best, _ = update_no_improvement(count, best, v, tol)
        ours.append((count, best))
    assert ours == _sklearn_training_loss_counter(losses, tol, 5)

    scores = list(np.round(rng.uniform(0.5, 1.0, 60), 2))  # ties included
    count, neg_best, ours = 0, np.inf, []
    for s in scores:
        count, neg_best, improved = update_no_improvement(count, neg_best, -s, tol)
        ours.append((count, -neg_best, improved))
    assert ours == _sklearn_validation_counter(scores, tol, 5)


@pytest.mark.parametrize("seed", [0, 1])
def test_training_stops_where_sklearns_rule_says(seed):
    """Without early stopping: n_iter_ is the first epoch whose no-improvement count (on the
    training loss, tol) exceeds n_iter_no_change, best_loss_ the lowest loss."""
    X, y = _data(seed)
    model = MLPClassifier(
        (8,),
        learning_rate=0.02,
        batch_size=32,
        epochs=300,
        tol=1e-3,
        n_iter_no_change=4,
        random_state=seed,
    ).fit(X, y)
    replay = _sklearn_training_loss_counter(model.loss_curve_, 1e-3, 4)
    assert model.n_iter_ == len(model.loss_curve_) < 300
    assert model.n_iter_ == _stop_epoch([c for c, _ in replay], 4)
    assert model.best_loss_ == replay[-1][1] == min(model.loss_curve_)
    assert model.validation_scores_ is None and model.best_validation_score_ is None


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_early_stopping_follows_sklearns_rule_and_restores_the_best_epoch(cls):
    """With early stopping: stop where scikit-learn's counter on validation_scores_ says; the
    final network is the one after the best-scoring epoch (rerun without restoring, for
    exactly that many epochs: training is deterministic)."""
    X, y = _data(3, n=300)
    if cls is MLPRegressor:
        y = X[:, 0] - 2 * X[:, 1] ** 2 + 0.1 * np.random.default_rng(0).standard_normal(300)
    common = dict(
        hidden_layer_sizes=(16,),
        learning_rate=0.03,
        batch_size=32,
        early_stopping=True,
        validation_fraction=0.2,
        tol=1e-3,
        n_iter_no_change=3,
        random_state=1,
    )
    model = cls(epochs=200, **common).fit(X, y)
    scores = model.validation_scores_
    replay = _sklearn_validation_counter(scores, 1e-3, 3)
    assert model.n_iter_ == len(scores) == _stop_epoch([c for c, _, _ in replay], 3) < 200
    assert model.best_validation_score_ == max(scores) == replay[-1][1]
    assert model.best_loss_ is None and len(model.validation_loss_curve_) == model.n_iter_
    best_epoch = int(np.argmax(scores)) + 1  # the first epoch reaching the maximum
    again = cls(epochs=best_epoch, restore_best_weights=False, **common).fit(X, y)
    np.testing.assert_array_equal(model.predict(X), again.predict(X))
    if best_epoch < model.n_iter_:  # restoring mattered: the last epoch's net is another
        last = cls(epochs=200, restore_best_weights=False, **common).fit(X, y)
        assert not np.array_equal(
            last.module_.state_dict()["0.weight"], model.module_[0].weight.data
        )


# ------------------------------------------------------------------ weights against torch


def _torch_copy(model):
    lin = [m for m in model.module_ if type(m).__name__ == "Linear"]
    layers = []
    for i, m in enumerate(lin):
        t = torch.nn.Linear(m.weight.data.shape[1], m.weight.data.shape[0], dtype=torch.float64)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(m.weight.data))
            t.bias.copy_(torch.from_numpy(m.bias.data))
        layers += [t] + ([torch.nn.Tanh()] if i < len(lin) - 1 else [])
    return torch.nn.Sequential(*layers)


def _weights(model):
    return np.concatenate([p.data.ravel() for p in model.module_.parameters()])


def _torch_weights(net):
    return np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])


@pytest.mark.parametrize("class_weight", [{0: 1.0, 1: 3.0, 2: 0.5}, "balanced"])
def test_class_weight_equals_torch_weighted_cross_entropy(class_weight):
    """Full-batch SGD on the class-weighted cross entropy = torch's
    F.cross_entropy(weight=w) (Σ w_yᵢ ℓᵢ / Σ w_yᵢ), with sklearn's class weights."""
    X, y = _data(1, n=150)
    kw = dict(
        hidden_layer_sizes=(6,),
        activation="tanh",
        optimizer="sgd",
        learning_rate=0.2,
        batch_size=1000,
        n_iter_no_change=1000,
        random_state=0,
        class_weight=class_weight,
    )
    model = MLPClassifier(epochs=0, warm_start=True, **kw).fit(X, y)
    net = _torch_copy(model)
    model.set_params(epochs=25).fit(X, y)
    classes = np.unique(y)
    cw = (
        compute_class_weight("balanced", classes=classes, y=y)
        if class_weight == "balanced"
        else np.array([class_weight[c] for c in classes])
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.2)
    Xt, yt, wt = torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(cw)
    for _ in range(25):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt, weight=wt).backward()
        opt.step()
    np.testing.assert_allclose(_weights(model), _torch_weights(net), rtol=1e-9, atol=1e-12)


def test_regressor_sample_weight_equals_torch_weighted_mse():
    """Σᵢ wᵢ Σₖ (ŷᵢₖ − yᵢₖ)² / (K Σᵢ wᵢ), full batch, Adam: equal to torch."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((90, 4))
    Y = np.column_stack([X[:, 0] * X[:, 1], np.sin(X[:, 2])])
    w = rng.uniform(0.1, 3.0, 90)
    kw = dict(
        hidden_layer_sizes=(7,),
        activation="tanh",
        learning_rate=0.01,
        batch_size=1000,
        n_iter_no_change=1000,
        random_state=0,
    )
    model = MLPRegressor(epochs=0, warm_start=True, **kw).fit(X, Y, sample_weight=w)
    net = _torch_copy(model)
    model.set_params(epochs=30).fit(X, Y, sample_weight=w)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    Xt, Yt, wt = torch.from_numpy(X), torch.from_numpy(Y), torch.from_numpy(w)
    for _ in range(30):
        opt.zero_grad()
        (((net(Xt) - Yt) ** 2).mean(dim=1) * wt).sum().div(wt.sum()).backward()
        opt.step()
    np.testing.assert_allclose(_weights(model), _torch_weights(net), rtol=1e-8, atol=1e-11)


def test_integer_sample_weight_equals_repeating_samples():
    """Full batch: weight k on a sample is the same objective as k copies of it."""
    X, y = _data(4, n=60)
    k = np.random.default_rng(0).integers(1, 4, 60)
    kw = dict(hidden_layer_sizes=(5,), batch_size=10_000, epochs=20, n_iter_no_change=1000)
    a = MLPClassifier(random_state=0, **kw).fit(X, y, sample_weight=k)
    b = MLPClassifier(random_state=0, **kw).fit(np.repeat(X, k, 0), np.repeat(y, k))
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_constant_sample_weight_changes_nothing():
    X, y = _data(5)
    kw = dict(hidden_layer_sizes=(5,), batch_size=32, epochs=5, random_state=0)
    a = MLPClassifier(**kw).fit(X, y)
    b = MLPClassifier(**kw).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


# ------------------------------------------------------------------ partial_fit


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_partial_fit_k_times_equals_fit_k_epochs(cls):
    X, y = _data(6)
    kw = dict(hidden_layer_sizes=(6,), batch_size=32, epochs=4, random_state=2, batch_norm=True)
    full = cls(**kw).fit(X, y)
    inc = cls(**kw)
    for _ in range(4):
        if cls is MLPClassifier:
            inc.partial_fit(X, y, classes=[0, 1, 2])
        else:
            inc.partial_fit(X, y)
    assert inc.n_iter_ == 4 and inc.loss_curve_ == full.loss_curve_
    np.testing.assert_array_equal(inc.predict(X), full.predict(X))


def test_partial_fit_accepts_batches_missing_some_classes():
    X, y = _data(7)
    model = MLPClassifier((4,), random_state=0)
    model.partial_fit(X[y == 0], y[y == 0], classes=np.array([0, 1, 2]))
    model.partial_fit(X[y > 0], y[y > 0])
    assert list(model.classes_) == [0, 1, 2] and model.predict_proba(X).shape == (len(X), 3)


# ------------------------------------------------------------------ schedulers as schedule


def test_reduce_on_plateau_watches_the_training_loss():
    """The final lr is what torch's ReduceLROnPlateau gives on loss_curve_."""
    X, y = _data(8)
    plateau = L.ReduceLROnPlateau(factor=0.5, patience=1, threshold=0.02)
    model = MLPClassifier(
        (8,),
        learning_rate=0.05,
        batch_size=32,
        epochs=40,
        n_iter_no_change=1000,
        schedule=plateau,
        random_state=0,
    ).fit(X, y)
    assert not plateau.bound and model.scheduler_.optimizer is model.optimizer_
    p = torch.nn.Parameter(torch.zeros(1))
    topt = torch.optim.SGD([p], lr=0.05)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        topt, factor=0.5, patience=1, threshold=0.02
    )
    for loss in model.loss_curve_:
        tsched.step(loss)
    assert model.optimizer_.param_groups[0]["lr"] == topt.param_groups[0]["lr"] < 0.05


def test_warmup_then_plateau_on_the_validation_loss():
    X, y = _data(9, n=300)
    sched = L.SequentialLR(
        None,
        [L.LRScheduler(schedule=schedules.warmup(0.05, 5)), L.ReduceLROnPlateau(patience=2)],
        [5],
    )
    model = MLPClassifier(
        (8,),
        learning_rate=0.05,
        batch_size=32,
        epochs=40,
        early_stopping=True,
        n_iter_no_change=1000,
        schedule=sched,
        random_state=0,
    ).fit(X, y)
    t = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    warm = torch.optim.lr_scheduler.LambdaLR(t, lambda k: k / 5)
    plat = torch.optim.lr_scheduler.ReduceLROnPlateau(t, patience=2)
    for k, v in enumerate(model.validation_loss_curve_, start=1):
        if k <= 5:
            warm.step()
        if k >= 5:
            plat.step(v)
    assert model.optimizer_.param_groups[0]["lr"] == pytest.approx(
        t.param_groups[0]["lr"], rel=1e-12
    )


@pytest.mark.parametrize(
    "schedule",
    [
        L.ReduceLROnPlateau(factor=0.5, patience=0),
        L.CosineAnnealingWarmRestarts(T_0=2),
        L.ExponentialLR(gamma=0.9),
    ],
    ids=["plateau", "sgdr", "exp"],
)
@pytest.mark.parametrize("through_file", [False, True])
def test_warm_start_with_a_scheduler_is_bit_for_bit(schedule, through_file, tmp_path):
    X, y = _data(10)
    kw = dict(
        hidden_layer_sizes=(6,),
        batch_size=32,
        schedule=schedule,
        random_state=0,
        learning_rate=0.02,
    )
    four = MLPClassifier(epochs=4, **kw).fit(X, y)
    two = MLPClassifier(epochs=2, warm_start=True, **kw).fit(X, y)
    if through_file:
        qed.save(two, tmp_path / "m.qed")
        two = qed.load(tmp_path / "m.qed")
    two.fit(X, y)
    assert two.loss_curve_ == four.loss_curve_
    assert two.optimizer_.param_groups[0]["lr"] == four.optimizer_.param_groups[0]["lr"]
    np.testing.assert_array_equal(two.predict_proba(X), four.predict_proba(X))


@pytest.mark.parametrize("name", ["nadam", "adamw", "adagrad"])
def test_every_named_optimizer_trains(name):
    X, y = _data(11)
    model = MLPClassifier((8,), optimizer=name, learning_rate=0.01, epochs=15, random_state=0)
    model.fit(X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert type(model.optimizer_) is qed.optim.OPTIMIZERS[name]


def test_progress_shows_loss_and_validation_score(capsys):
    X, y = _data(12)
    MLPClassifier((4,), epochs=3, early_stopping=True, verbose=True, random_state=0).fit(X, y)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "loss" in text and "val" in text


# ------------------------------------------------------------------ dropout and layer norm


def test_layer_norm_gelu_network_equals_torch():
    """layer_norm=True, activation="gelu": Linear → LayerNorm → GELU per hidden layer; full-batch
    SGD on the same initial weights gives torch's weights."""
    X, y = _data(13, n=120)
    kw = dict(
        hidden_layer_sizes=(7, 5),
        activation="gelu",
        layer_norm=True,
        optimizer="sgd",
        learning_rate=0.1,
        batch_size=1000,
        n_iter_no_change=1000,
        random_state=0,
    )
    model = MLPClassifier(epochs=0, warm_start=True, **kw).fit(X, y)
    names = [type(m).__name__ for m in model.module_]
    assert names == ["Linear", "LayerNorm", "GELU", "Linear", "LayerNorm", "GELU", "Linear"]
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 7),
        torch.nn.LayerNorm(7),
        torch.nn.GELU(),
        torch.nn.Linear(7, 5),
        torch.nn.LayerNorm(5),
        torch.nn.GELU(),
        torch.nn.Linear(5, 3),
    ).double()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in model.module_.state_dict().items()})
    model.set_params(epochs=20).fit(X, y)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(Xt), yt).backward()
        opt.step()
    # atol 1e-9 (weights are O(0.1)): small entries (1e-3) differ by up to 1e-10 absolute, the
    # two libraries' summation orders through the LayerNorm backward after 20 steps; worst is
    # the Linear bias before a LayerNorm, which is blind to a shift common to all features, so
    # that bias's gradient is a sum of nearly cancelling terms.
    np.testing.assert_allclose(_weights(model), _torch_weights(net), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("through_file", [False, True])
def test_dropout_trains_reproducibly_and_predicts_with_the_whole_network(through_file, tmp_path):
    X, y = _data(14)
    kw = dict(hidden_layer_sizes=(16,), dropout=0.3, batch_size=32, random_state=0)
    four = MLPClassifier(epochs=4, **kw).fit(X, y)
    assert any(type(m).__name__ == "Dropout" for m in four.module_)
    plain = MLPClassifier(epochs=4, **{**kw, "dropout": 0.0}).fit(X, y)
    assert four.loss_curve_ != plain.loss_curve_  # the masks changed training
    np.testing.assert_array_equal(four.predict_proba(X), four.predict_proba(X))  # eval mode
    two = MLPClassifier(epochs=2, warm_start=True, **kw).fit(X, y)
    if through_file:
        qed.save(two, tmp_path / "d.qed")
        two = qed.load(tmp_path / "d.qed")
    two.fit(X, y)
    assert two.loss_curve_ == four.loss_curve_
    np.testing.assert_array_equal(two.predict_proba(X), four.predict_proba(X))


def test_dropout_layer_norm_digits_accuracy():
    from qed.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = np.random.default_rng(0).permutation(len(X))
    tr, te = order[:1300], order[1300:]
    model = MLPClassifier(
        (64,),
        activation="gelu",
        layer_norm=True,
        dropout=0.2,
        learning_rate=3e-3,
        batch_size=64,
        epochs=40,
        early_stopping=True,
        n_iter_no_change=5,
        random_state=0,
    ).fit(X[tr], y[tr])
    assert model.score(X[te], y[te]) >= 0.95
