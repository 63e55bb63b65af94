"""Variance through depth (Xavier vs He) and the overfitting curve."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import PolynomialFeatures

from qed.theory import init_std, init_variance, overfitting_curve, predicted_variance


@pytest.mark.parametrize("fan_in", [16, 100, 512])
def test_init_std_matches_torch_gains(fan_in):
    """On a square layer Xavier σ = 1/√D_in is torch's kaiming with gain 1; He σ = √2/√D_in."""
    assert init_std("he", fan_in) == pytest.approx(
        torch.nn.init.calculate_gain("relu") / np.sqrt(fan_in), rel=1e-12
    )
    assert init_std("xavier", fan_in) == pytest.approx(
        torch.nn.init.calculate_gain("linear") / np.sqrt(fan_in), rel=1e-12
    )
    # torch's xavier_normal_ on a square layer is the same σ² = 2/(D_in + D_out) = 1/D_in
    w = torch.empty(fan_in, fan_in, dtype=torch.float64)
    torch.nn.init.xavier_normal_(w, generator=torch.Generator().manual_seed(fan_in))
    assert w.std().item() == pytest.approx(init_std("xavier", fan_in), rel=0.1)


@pytest.mark.parametrize("fan_in, fan_out", [(16, 16), (100, 10), (7, 300)])
def test_xavier_means_the_same_in_theory_nn_and_torch(fan_in, fan_out):
    """Issue 12: "xavier" is Glorot's fan_avg everywhere; the notes' fan_in form is explicit."""
    from qed.nn import Linear
    from qed.nn import init as nn_init
    from qed.nn.layers import INITS as LINEAR_INITS
    from qed.theory.experiments import INITS as THEORY_INITS

    shape = (fan_out, fan_in)
    glorot = np.sqrt(2.0 / (fan_in + fan_out))
    assert init_std("xavier", fan_in, fan_out) == pytest.approx(glorot, rel=1e-14)
    assert nn_init.init_std(shape, "xavier", "fan_avg") == pytest.approx(glorot, rel=1e-14)
    assert init_std("xavier_fan_in", fan_in, fan_out) == pytest.approx(
        nn_init.init_std(shape, "xavier", "fan_in"), rel=1e-14
    )
    # torch's xavier_normal_ has the same σ (its gain-1 formula)
    assert glorot == pytest.approx(
        torch.nn.init.calculate_gain("linear") * np.sqrt(2.0 / (fan_in + fan_out)), rel=1e-14
    )
    for name in set(THEORY_INITS) & set(LINEAR_INITS):
        layer = Linear(fan_in, fan_out, init=name, rng=0)
        w = layer.weight.data
        assert w.std() == pytest.approx(init_std(name, fan_in, fan_out), rel=0.25), name


def test_theory_modules_import_no_cycle():
    """Issue 12: no module of qed.theory imports (even inside a function) one that imports it
    back; plotting reads results and never imports the experiments."""
    import ast
    import pathlib

    import qed.theory

    root = pathlib.Path(qed.theory.__file__).parent
    graph = {}
    for path in root.glob("*.py"):
        name = f"qed.theory.{path.stem}" if path.stem != "__init__" else "qed.theory"
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d.startswith("qed.theory.")}
    assert "qed.theory.plotting" in graph

    def reaches(start, target, seen=()):
        return any(
            d == target or (d not in seen and reaches(d, target, (*seen, d)))
            for d in graph.get(start, ())
        )

    for module in graph:
        if module != "qed.theory":
            assert not reaches(module, module), f"{module} imports itself through a cycle"


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "init, activation, per_layer",
    [
        ("he", "relu", 1.0),
        ("xavier", "relu", 0.5),
        ("xavier", "linear", 1.0),
        ("he", "linear", 2.0),
        ("he_uniform", "relu", 1.0),
        ("xavier_uniform", "relu", 0.5),
    ],
)
def test_second_moment_changes_by_half_din_sigma2_per_layer(seed, init, activation, per_layer):
    """E[h_{l+1}²]/E[h_l²] = c·D_in·σ² (c = ½ for ReLU): He keeps ReLU level, Xavier halves it."""
    depth = 8
    v = init_variance(depth, 512, init, activation, random_state=seed, n_samples=600)
    geometric = (v[-1] / v[0]) ** (1 / depth)
    assert geometric == pytest.approx(per_layer, rel=0.05)
    np.testing.assert_allclose(
        predicted_variance(depth, init, activation) / per_layer ** np.arange(depth + 1), 1.0
    )
    assert v[1] == pytest.approx(per_layer * v[0], rel=0.08)  # one layer: ½·D_in·σ²·S


def test_tanh_stays_below_the_linear_prediction():
    """tanh is linear near 0 and contracts away from it: under Xavier E[h²] falls at every layer."""
    v = init_variance(6, 256, "xavier", "tanh", random_state=0)
    assert np.all(np.diff(v) < 0)
    with pytest.raises(ValueError, match="ReLU and linear"):
        predicted_variance(3, "xavier", "tanh")


def test_init_variance_validates():
    with pytest.raises(ValueError, match="init="):
        init_variance(3, 8, "lecun")
    with pytest.raises(ValueError, match="activation="):
        init_variance(3, 8, "he", "gelu")
    with pytest.raises(ValueError, match="depth"):
        init_variance(0, 8)


@pytest.fixture(scope="module")
def curve():
    return overfitting_curve(range(0, 15), n_train=15, random_state=0)


def test_training_error_never_rises_with_degree(curve):
    """Nested least-squares models: a higher degree can only fit the training data better."""
    train = curve["train_mse"]
    assert np.all(np.diff(train) <= 1e-9 * train[0])
    assert train[-1] < 1e-12 * train[0]  # degree n − 1 interpolates n points


def test_test_error_rises_after_its_minimum_and_ridge_tames_it(curve):
    test = curve["test_mse"]
    best = int(np.argmin(test))
    assert 0 < curve["best_degree"] < 14
    assert test[-1] > 10 * test[best]
    assert curve["ridge_test_mse"][-1] < test[-1] / 10


@pytest.mark.parametrize("degree", [1, 3, 7])
def test_fits_match_scikit_learn(curve, degree):
    """The least-squares and ridge fits equal sklearn's PolynomialFeatures + LinearRegression/Ridge."""
    x, y = curve["x_train"][:, None], curve["y_train"]
    feats = PolynomialFeatures(degree, include_bias=False).fit_transform(x)
    xt = PolynomialFeatures(degree, include_bias=False).fit_transform(curve["x_test"][:, None])
    ols = LinearRegression().fit(feats, y)
    ridge = Ridge(alpha=curve["alpha"]).fit(feats, y)
    i = list(curve["degrees"]).index(degree)
    assert curve["train_mse"][i] == pytest.approx(np.mean((ols.predict(feats) - y) ** 2), rel=1e-8)
    assert curve["test_mse"][i] == pytest.approx(
        np.mean((ols.predict(xt) - curve["y_test"]) ** 2), rel=1e-8
    )
    assert curve["ridge_train_mse"][i] == pytest.approx(
        np.mean((ridge.predict(feats) - y) ** 2), rel=1e-6
    )


def test_overfitting_validates():
    with pytest.raises(ValueError, match="degrees"):
        overfitting_curve([-1, 2])
    with pytest.raises(ValueError, match="alpha"):
        overfitting_curve([1, 2], alpha=-1.0)
