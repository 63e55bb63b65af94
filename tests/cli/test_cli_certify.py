"""`qed certify --json` and `--against sklearn|torch`, checked against the peers directly.

Every number the command prints is recomputed here from scikit-learn's (or PyTorch's) own
fit, independently of the command's code: the objectives by their formulas, the differences
from both libraries' attributes, and the peer's certificate values from the optimality
conditions at the peer's coefficients.
"""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, log_expit, log_softmax, softmax
from typer.testing import CliRunner

import qed
from qed.cli import app
from qed.datasets import load_iris

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory, write_standard_csvs):
    d = tmp_path_factory.mktemp("certify")
    write_standard_csvs(d)
    Xi, yi = load_iris(return_X_y=True)
    Xi = (Xi - Xi.mean(0)) / Xi.std(0)  # scikit-learn's lbfgs converges within its 100 steps
    iris = pd.DataFrame(Xi, columns=["sl", "sw", "pl", "pw"])
    iris["species"] = np.array(["setosa", "versicolor", "virginica"])[yi]
    iris.to_csv(d / "iris.csv", index=False)
    rng = np.random.default_rng(3)
    Xs = rng.standard_normal((60, 3))
    small = pd.DataFrame(Xs, columns=["a", "b", "c"])
    small["y"] = Xs @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(60)
    small.to_csv(d / "small.csv", index=False)
    return d


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def strict_json(text):
    """json.loads that refuses NaN/Infinity, which are not JSON (RFC 8259)."""

    def refuse(token):
        raise ValueError(f"invalid JSON constant {token}")

    return json.loads(text, parse_constant=refuse)


def fit(files, tmp_path, model, data, target, *settings):
    out = tmp_path / f"{model}.qed"
    args = ["fit", model, files / data, "-t", target, "-o", out]
    for s in settings:
        args += ["--set", s]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return out


def data_of(files, data, target):
    df = pd.read_csv(files / data)
    return df.drop(columns=target).to_numpy(dtype=float), df[target].to_numpy()


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b))


# --- --json ----------------------------------------------------------------------------


def test_json_is_the_certificate_measured_on_the_data(files, tmp_path):
    out = fit(files, tmp_path, "ridge", "reg.csv", "progression", "alpha=0.5")
    result = invoke("certify", out, files / "reg.csv", "--json")
    assert result.exit_code == 0, result.output
    got = strict_json(result.stdout)
    X, y = data_of(files, "reg.csv", "progression")
    want = qed.load(out)["model"].certificate(X, y).to_dict()
    assert set(got) == {"model", "holds", "conditions", "bounds", "bounds_note"}
    assert got["model"] == want["model"] and got["holds"] is True
    assert got["bounds_note"] == want["bounds_note"] and got["bounds_note"]
    assert [c["name"] for c in got["conditions"]] == [c["name"] for c in want["conditions"]]
    for a, b in zip(got["conditions"], want["conditions"], strict=True):
        assert a["holds"] == b["holds"] and a["description"] == b["description"]
        assert a["tolerance"] == pytest.approx(b["tolerance"], rel=1e-12)
    assert set(got["bounds"]) == {"objective_gap", "distance", "prediction"}
    for key, value in got["bounds"].items():
        assert np.isfinite(value) and value == pytest.approx(want["bounds"][key], rel=1e-6)


def test_json_of_an_unbounded_fit_stays_valid_json(files, tmp_path):
    """A duplicated column: X_c has no full column rank, μ = 0, the bounds are infinite."""
    df = pd.read_csv(files / "small.csv")
    df.insert(1, "a_again", df["a"])
    path = tmp_path / "dup.csv"
    df.to_csv(path, index=False)
    model = tmp_path / "dup.qed"
    from qed.linear import RankDeficiencyWarning

    with pytest.warns(RankDeficiencyWarning):
        assert invoke("fit", "linear", path, "-t", "y", "-o", model).exit_code == 0
    result = invoke("certify", model, path, "--json")
    got = strict_json(result.stdout)  # no bare Infinity / NaN
    assert got["bounds"]["distance"] == "inf" and got["bounds"]["objective_gap"] == "inf"
    assert "no bound" in got["bounds_note"]
    assert result.exit_code == (0 if got["holds"] else 1)


def test_the_table_shows_the_bounds_and_their_note(files, tmp_path):
    out = fit(files, tmp_path, "ridge", "reg.csv", "progression")
    result = invoke("certify", out, files / "reg.csv")
    assert result.exit_code == 0
    for text in ("objective_gap", "distance", "prediction", "bounds: bounds on f(β, b)"):
        assert text in result.stdout


def test_json_failure_still_prints_json_and_exits_1(files, tmp_path):
    out = fit(files, tmp_path, "ridge", "reg.csv", "progression")
    df = pd.read_csv(files / "reg.csv")
    df["progression"] = np.random.default_rng(0).permutation(df["progression"].to_numpy())
    other = tmp_path / "shuffled.csv"
    df.to_csv(other, index=False)
    result = invoke("certify", out, other, "--json")
    assert result.exit_code == 1
    got = strict_json(result.stdout)
    assert got["holds"] is False and "certificate fails" in result.stderr


# --- --against sklearn -------------------------------------------------------------------


def ls_objective(coef, intercept, X, y, alpha=0.0):
    r = y - X @ coef - intercept
    return float(r @ r + alpha * coef @ coef)


def logistic_objective(coef, intercept, classes, X, y, C):
    """f = Σ −log pᵢ + ‖W‖²/(2C), what the logistic certificate's bounds are about."""
    codes = np.searchsorted(classes, y)
    Z = X @ np.atleast_2d(coef).T + intercept
    if Z.shape[1] == 1:
        nll = -np.sum(log_expit((2.0 * codes - 1) * Z[:, 0]))
    else:
        nll = -np.sum(log_softmax(Z, axis=1)[np.arange(len(y)), codes])
    return float(nll + np.sum(np.asarray(coef) ** 2) / (2 * C))


def logistic_stationarity(coef, intercept, classes, X, y, C):
    """‖∇f‖∞/n of f = Σ −log pᵢ + ‖W‖²/(2C) (qed's condition, scikit-learn's gtol)."""
    codes = np.searchsorted(classes, y)
    Z = X @ np.atleast_2d(coef).T + intercept
    if Z.shape[1] == 1:
        R = (expit(Z[:, 0]) - codes)[:, None]
    else:
        R = softmax(Z, axis=1) - np.eye(Z.shape[1])[codes]
    G = np.vstack([X.T @ R + np.atleast_2d(coef).T / C, R.sum(axis=0, keepdims=True)])
    return float(np.max(np.abs(G)) / len(y))


def svc_primal(model, X, y):
    """½Σ_pairs‖w‖² + ΣCξ of a fitted scikit-learn SVC, with its own kernel."""
    from sklearn.metrics.pairwise import pairwise_kernels

    K = pairwise_kernels(
        X, model.support_vectors_, metric=model.kernel, gamma=model._gamma, coef0=model.coef0,
        degree=model.degree, filter_params=True,
    )  # fmt: skip
    codes = np.searchsorted(model.classes_, y)
    k = len(model.classes_)
    edge = np.concatenate([[0], np.cumsum(model.n_support_)])
    total, col = 0.0, 0
    for a in range(k):
        for b in range(a + 1, k):
            pos = np.r_[edge[a] : edge[a + 1], edge[b] : edge[b + 1]]
            coef = np.r_[
                model.dual_coef_[b - 1, edge[a] : edge[a + 1]],
                model.dual_coef_[a, edge[b] : edge[b + 1]],
            ]
            f = K[:, pos] @ coef + model.intercept_[col]
            w2 = coef @ K[model.support_[pos]][:, pos] @ coef
            rows = (codes == a) | (codes == b)
            yi = np.where(codes[rows] == (1 if k == 2 else a), 1.0, -1.0)
            total += 0.5 * w2 + model.C * np.sum(np.maximum(0, 1 - yi * f[rows]))
            col += 1
    return float(total)


def per_sample(model, n):
    out = np.zeros((model.dual_coef_.shape[0], n))
    out[:, model.support_] = model.dual_coef_
    return out


def certify_against(out, files, data, *peer_set):
    """``--json --against sklearn``, parsed; the bounds are there, each a finite float."""
    args = ["certify", out, files / data, "--json", "--against", "sklearn"]
    for s in peer_set:
        args += ["--peer-set", s]
    result = invoke(*args)
    got = strict_json(result.stdout)
    assert result.exit_code == (0 if got["qed"]["certificate"]["holds"] else 1), result.output
    assert got["peer"]["name"] == "sklearn" and got["peer"]["certificate"]["conditions"]
    for cert in (got["qed"]["certificate"], got["peer"]["certificate"]):
        assert cert["bounds"] and cert["bounds_note"]  # every convex model carries bounds
        for value in cert["bounds"].values():
            assert isinstance(value, float) and np.isfinite(value), cert["bounds"]
    return got


def check_within_bounds(got, *, coordinates=True, prediction_factor=1.0):
    """The printed differences must lie within the two certificates' rigorous bounds:
    f(peer) − f(qed) ≤ f(peer) − f* ≤ its objective_gap (and the other way), each
    coordinate's gap ≤ ‖θ_peer − θ*‖ + ‖θ_qed − θ*‖, the predictions' likewise (times
    ``prediction_factor``, the Lipschitz constant from the bounded quantity to the printed
    one)."""
    q, p = got["qed"]["certificate"]["bounds"], got["peer"]["certificate"]["bounds"]
    assert {"objective_gap", "distance", "prediction"} <= set(q) & set(p)
    f_q, f_p = got["qed"]["objective"], got["peer"]["objective"]
    rounding = 1e-13 * max(abs(f_q), abs(f_p))  # the two evaluations of f in float64
    assert f_p - f_q <= p["objective_gap"] + rounding
    assert f_q - f_p <= q["objective_gap"] + rounding
    d = got["difference"]
    if coordinates:
        coef = max(d["coef_max_abs"], d.get("intercept_max_abs", 0.0))
        assert coef <= (p["distance"] + q["distance"]) * (1 + 1e-9) + 1e-13
    bound = prediction_factor * (p["prediction"] + q["prediction"])
    assert d["prediction_max_abs"] <= bound * (1 + 1e-9) + 1e-12


def check_linear_peer_fields(got, model, peer, X):
    d = got["difference"]
    assert d["coef_max_abs"] == pytest.approx(np.max(np.abs(model.coef_ - peer.coef_)), abs=1e-300)
    assert d["intercept_max_abs"] == pytest.approx(
        np.max(np.abs(np.asarray(model.intercept_) - peer.intercept_)), abs=1e-300
    )


@pytest.mark.parametrize(
    "model, settings, alpha",
    [("linear", [], 0.0), ("ridge", ["alpha=0.5"], 0.5), ("ridge", ["alpha=30.0"], 30.0)],
)
def test_least_squares_against_scikit_learn(files, tmp_path, model, settings, alpha):
    from sklearn.linear_model import LinearRegression, Ridge

    out = fit(files, tmp_path, model, "reg.csv", "progression", *settings)
    got = certify_against(out, files, "reg.csv")
    X, y = data_of(files, "reg.csv", "progression")
    ours = qed.load(out)["model"]
    peer = (LinearRegression() if model == "linear" else Ridge(alpha=alpha)).fit(X, y)
    f_qed = ls_objective(ours.coef_, ours.intercept_, X, y, alpha)
    f_peer = ls_objective(peer.coef_, peer.intercept_, X, y, alpha)
    assert got["qed"]["objective"] == pytest.approx(f_qed, rel=1e-12)
    assert got["peer"]["objective"] == pytest.approx(f_peer, rel=1e-12)
    assert rel(got["qed"]["objective"], got["peer"]["objective"]) <= 1e-8
    assert got["difference"]["objective_relative"] <= 1e-8
    check_linear_peer_fields(got, ours, peer, X)
    assert got["difference"]["prediction_max_abs"] == pytest.approx(
        np.max(np.abs(ours.predict(X) - peer.predict(X))), abs=1e-300
    )
    # scikit-learn solves these exactly: qed's certificate holds on its solution too, and
    # the normal-equation residual it measures there is scikit-learn's own
    assert got["qed"]["certificate"]["holds"] and got["peer"]["certificate"]["holds"]
    assert set(got["peer"]["certificate"]["bounds"]) == {"objective_gap", "distance", "prediction"}
    assert got["peer"]["params"]["fit_intercept"] is True
    check_within_bounds(got)


def test_kernel_ridge_against_scikit_learn(files, tmp_path):
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.metrics.pairwise import rbf_kernel

    out = fit(
        files, tmp_path, "kernel-ridge", "reg.csv", "progression",
        "kernel=rbf", "gamma=0.5", "alpha=0.1",
    )  # fmt: skip
    got = certify_against(out, files, "reg.csv")
    X, y = data_of(files, "reg.csv", "progression")
    ours = qed.load(out)["model"]
    peer = KernelRidge(alpha=0.1, kernel="rbf", gamma=0.5).fit(X, y)
    K = rbf_kernel(X, gamma=0.5)

    def J(a):
        r = y - K @ a
        return float(r @ r + 0.1 * a @ K @ a)

    assert got["qed"]["objective"] == pytest.approx(J(ours.dual_coef_), rel=1e-10)
    assert got["peer"]["objective"] == pytest.approx(J(peer.dual_coef_), rel=1e-10)
    assert rel(got["qed"]["objective"], got["peer"]["objective"]) <= 1e-8
    d = got["difference"]
    assert d["coef_max_abs"] == pytest.approx(np.max(np.abs(ours.dual_coef_ - peer.dual_coef_)))
    assert d["prediction_max_abs"] == pytest.approx(
        np.max(np.abs(ours.predict(X) - peer.predict(X))), abs=1e-300
    )
    assert got["peer"]["params"]["gamma"] == 0.5 and got["peer"]["params"]["kernel"] == "rbf"
    assert got["peer"]["certificate"]["holds"]
    check_within_bounds(got, coordinates=False)  # distance is in the RKHS, not in α


@pytest.mark.parametrize(
    "data, target, C",
    [("clf.csv", "diagnosis", 1.0), ("clf.csv", "diagnosis", 0.05), ("iris.csv", "species", 1.0)],
)
def test_logistic_against_scikit_learn(files, tmp_path, data, target, C):
    from sklearn.linear_model import LogisticRegression

    out = fit(files, tmp_path, "logistic", data, target, "tol=1e-10", f"C={C}")
    X, y = data_of(files, data, target)
    ours = qed.load(out)["model"]

    # tight: scikit-learn's Newton at tol 1e-12 reaches the same optimum
    got = certify_against(out, files, data, "solver=newton-cholesky", "tol=1e-12")
    peer = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12).fit(X, y)
    f_peer = logistic_objective(peer.coef_, peer.intercept_, peer.classes_, X, y, C)
    assert got["peer"]["objective"] == pytest.approx(f_peer, rel=1e-12)
    assert got["qed"]["objective"] == pytest.approx(
        logistic_objective(ours.coef_, ours.intercept_, ours.classes_, X, y, C), rel=1e-12
    )
    assert rel(got["qed"]["objective"], got["peer"]["objective"]) <= 1e-8
    assert got["peer"]["certificate"]["holds"] and got["qed"]["certificate"]["holds"]
    check_linear_peer_fields(got, ours, peer, X)
    assert got["difference"]["prediction_max_abs"] == pytest.approx(
        np.max(np.abs(ours.predict_proba(X) - peer.predict_proba(X))), abs=1e-300
    )
    assert got["difference"]["labels_differ"] == int(np.sum(ours.predict(X) != peer.predict(X)))
    binary = len(ours.classes_) == 2
    if binary:  # |Δσ(z)| ≤ |Δz|/4; the softmax's shared shift makes Θ's coordinates differ
        check_within_bounds(got, prediction_factor=0.25)

    # scikit-learn's defaults (lbfgs, tol 1e-4): qed's stationarity condition measures the
    # peer's own stopping quantity, so it is of the order of 1e-4 and fails qed's 1e-10
    got = certify_against(out, files, data)
    peer = LogisticRegression(C=C).fit(X, y)
    station = next(
        c for c in got["peer"]["certificate"]["conditions"] if c["name"] == "stationarity"
    )
    want = logistic_stationarity(peer.coef_, peer.intercept_, peer.classes_, X, y, C)
    assert station["value"] == pytest.approx(want, rel=1e-6)
    assert station["value"] <= 10 * peer.tol
    assert station["holds"] == (station["value"] <= station["tolerance"])
    assert got["peer"]["certificate"]["holds"] is False  # 1e-4's stop is far above 1e-10
    assert got["qed"]["objective"] <= got["peer"]["objective"] + 1e-9 * abs(f_peer)
    assert got["peer"]["objective"] == pytest.approx(
        logistic_objective(peer.coef_, peer.intercept_, peer.classes_, X, y, C), rel=1e-12
    )
    # the peer's objective_gap bound is honest about its loose stop, and not vacuous
    gap = got["peer"]["certificate"]["bounds"]["objective_gap"]
    excess = got["peer"]["objective"] - got["qed"]["objective"]
    assert excess <= gap <= 1000 * excess
    if binary:
        check_within_bounds(got, prediction_factor=0.25)


@pytest.mark.parametrize(
    "data, target, settings, tight_holds",
    [
        ("clf.csv", "diagnosis", ["C=1.0"], True),
        ("clf.csv", "diagnosis", ["C=10.0", "kernel=linear"], None),
        (
            "iris.csv",
            "species",
            ["C=2.0", "kernel=poly", "degree=2", "gamma=0.5", "coef0=1.0"],
            None,
        ),
    ],
)
def test_svc_against_scikit_learn(files, tmp_path, data, target, settings, tight_holds):
    """libsvm keeps its kernel cache in float32 (``Qfloat``), so even at tol 1e-9 its KKT
    residuals stay near float32 rounding of K·α: with an RBF kernel (|K| ≤ 1) that is below
    qed's tolerances, with larger linear or polynomial kernels it need not be, and qed's
    certificate reports it (``tight_holds`` None: not asserted either way)."""
    from sklearn.svm import SVC

    out = fit(files, tmp_path, "svc", data, target, *settings)
    X, y = data_of(files, data, target)
    ours = qed.load(out)["model"]
    params = {k: getattr(ours, k) for k in ("C", "kernel", "gamma", "degree", "coef0")}
    n_pairs = len(ours.classes_) * (len(ours.classes_) - 1) // 2

    for peer_set, tol in (([], 1e-3), (["tol=1e-9"], 1e-9)):
        got = certify_against(out, files, data, *peer_set)
        assert got["qed"]["certificate"]["holds"]
        peer = SVC(**params, tol=tol).fit(X, y)
        assert got["peer"]["params"]["tol"] == tol
        assert got["peer"]["objective"] == pytest.approx(svc_primal(peer, X, y), rel=1e-9)
        assert got["qed"]["objective"] == pytest.approx(svc_primal(ours, X, y), rel=1e-9)
        # P(peer) ≥ min P ≥ P(qed) − (qed's duality gap, per pair): rigorous, can fail
        gap = next(c for c in got["qed"]["certificate"]["conditions"] if c["name"] == "duality_gap")
        assert got["peer"]["objective"] >= got["qed"]["objective"] - n_pairs * gap["value"] - 1e-9
        for c in got["peer"]["certificate"]["conditions"]:
            assert c["holds"] == (c["value"] <= c["tolerance"])
        # the objective_gap bounds (of P summed over the pairs) contain the difference
        q, p = got["qed"]["certificate"]["bounds"], got["peer"]["certificate"]["bounds"]
        f_q, f_p = got["qed"]["objective"], got["peer"]["objective"]
        assert f_p - f_q <= p["objective_gap"] + 1e-12 * abs(f_q)
        assert f_q - f_p <= q["objective_gap"] + 1e-12 * abs(f_q)
        d = got["difference"]
        assert d["coef_max_abs"] == pytest.approx(
            np.max(np.abs(per_sample(ours, len(X)) - per_sample(peer, len(X)))), abs=1e-300
        )
        assert d["intercept_max_abs"] == pytest.approx(
            np.max(np.abs(ours.intercept_ - peer.intercept_)), abs=1e-300
        )
        assert d["prediction_max_abs"] == pytest.approx(
            np.max(np.abs(ours.decision_function(X) - peer.decision_function(X))), abs=1e-300
        )
        assert d["labels_differ"] == int(np.sum(ours.predict(X) != peer.predict(X)))
        if tol == 1e-3:
            # libsvm stopped at a KKT gap of 1e-3, 1000 × qed's tol: qed's certificate fails it
            assert got["peer"]["certificate"]["holds"] is False
            assert d["objective_relative"] <= 1e-2
        else:
            assert d["objective_relative"] <= 1e-4
            if tight_holds:
                assert got["peer"]["certificate"]["holds"], got["peer"]["certificate"]


def test_the_table_names_both_and_exit_status_is_qeds(files, tmp_path):
    out = fit(files, tmp_path, "logistic", "clf.csv", "diagnosis", "tol=1e-10")
    result = invoke("certify", out, files / "clf.csv", "--against", "sklearn")
    assert result.exit_code == 0, result.output  # qed's holds; the peer's (tol 1e-4) fails
    for text in ("qed vs sklearn (LogisticRegression)", "carrying scikit-learn", "objective"):
        assert text in result.stdout
    assert "FAILS" in result.stdout and "predict_proba" in result.stdout


# --- --against torch ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, target, extra",
    [
        ("clf.csv", "diagnosis", ["activation=tanh"]),
        ("small.csv", "y", ["hidden_layer_sizes=(6, 4)"]),
        ("iris.csv", "species", ["batch_norm=True", "dropout=0.2"]),
        ("small.csv", "y", ["layer_norm=True", "activation=gelu"]),
        ("iris.csv", "species", ["activation=elu", "hidden_layer_sizes=(5, 5)"]),
    ],
)
def test_mlp_against_torch(files, tmp_path, data, target, extra):
    import torch

    out = fit(
        files, tmp_path, "mlp", data, target,
        "hidden_layer_sizes=(8,)", "epochs=20", "random_state=0", *extra,
    )  # fmt: skip
    result = invoke("certify", out, files / data, "--json", "--against", "torch")
    got = strict_json(result.stdout)
    assert result.exit_code == (0 if got["qed"]["certificate"]["holds"] else 1)
    assert "not convex" in got["note"] and got["peer"]["name"] == "torch"

    # the same network built here by hand from the saved weights
    model = qed.load(out)["model"]
    X, y = data_of(files, data, target)
    layers = []
    for layer in model.module_:
        kind = type(layer).__name__
        if kind == "Linear":
            lin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            lin.weight.data = torch.tensor(np.array(layer.weight.data))
            lin.bias.data = torch.tensor(np.array(layer.bias.data))
            layers.append(lin)
        elif kind == "BatchNorm1d":
            bn = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps, dtype=torch.float64)
            bn.weight.data = torch.tensor(np.array(layer.weight.data))
            bn.bias.data = torch.tensor(np.array(layer.bias.data))
            bn.running_mean = torch.tensor(np.array(layer.running_mean))
            bn.running_var = torch.tensor(np.array(layer.running_var))
            layers.append(bn)
        elif kind == "LayerNorm":
            ln = torch.nn.LayerNorm(layer.normalized_shape, eps=layer.eps, dtype=torch.float64)
            ln.weight.data = torch.tensor(np.array(layer.weight.data))
            ln.bias.data = torch.tensor(np.array(layer.bias.data))
            layers.append(ln)
        else:
            layers.append(
                {
                    "ReLU": torch.nn.ReLU,
                    "Tanh": torch.nn.Tanh,
                    "GELU": torch.nn.GELU,
                    "ELU": torch.nn.ELU,
                    "Dropout": torch.nn.Identity,
                }[kind]()
            )
    net = torch.nn.Sequential(*layers).eval()
    Z = net(torch.tensor(X))
    if hasattr(model, "classes_"):
        t = torch.tensor(np.searchsorted(model.classes_, y))
        loss = torch.nn.functional.cross_entropy(Z, t)
    else:
        loss = torch.nn.functional.mse_loss(Z, torch.tensor(y.reshape(-1, 1)))
    loss.backward()
    grad = float(torch.sqrt(sum(torch.sum(p.grad**2) for p in net.parameters())))
    assert got["peer"]["loss"] == pytest.approx(loss.item(), rel=1e-12)
    assert got["peer"]["grad_norm"] == pytest.approx(grad, rel=1e-10)
    # qed's own autograd agrees with torch to rounding
    assert rel(got["qed"]["loss"], got["peer"]["loss"]) <= 1e-10
    assert rel(got["qed"]["grad_norm"], got["peer"]["grad_norm"]) <= 1e-8
    d = got["difference"]
    assert d["loss"] == got["qed"]["loss"] - got["peer"]["loss"]
    assert d["grad_norm"] == got["qed"]["grad_norm"] - got["peer"]["grad_norm"]
    ours = model.decision_function(X) if hasattr(model, "classes_") else model.predict(X)
    theirs = Z.detach().numpy()
    if hasattr(model, "classes_") and theirs.shape[1] == 2:
        theirs = theirs[:, 1] - theirs[:, 0]
    assert np.max(np.abs(ours.reshape(theirs.shape) - theirs)) <= 1e-10
    assert d["output_max_abs"] <= 1e-10


def test_torch_table_says_there_is_no_global_optimum(files, tmp_path):
    out = fit(
        files, tmp_path, "mlp", "small.csv", "y", "hidden_layer_sizes=(4,)", "epochs=5",
        "random_state=0",
    )  # fmt: skip
    result = invoke("certify", out, files / "small.csv", "--against", "torch")
    assert "qed vs torch (Sequential)" in result.stdout and "not convex" in result.stdout
    assert "‖∇θL‖₂" in result.stdout


def test_help_describes_json_and_against():
    result = invoke("certify", "--help")
    assert result.exit_code == 0
    for text in ("--json", "--against", "--peer-set", "sklearn", "torch", '"inf"'):
        assert text in result.stdout, text


def test_json_from_a_real_process_is_pure_json(files, tmp_path):
    """`python -m qed.cli certify --json` in a fresh process: stdout parses as JSON whole
    (no table, status line or warning mixed in), for both peers."""
    import subprocess
    import sys

    ridge = fit(files, tmp_path, "ridge", "reg.csv", "progression")
    mlp = fit(
        files, tmp_path, "mlp", "small.csv", "y", "hidden_layer_sizes=(3,)", "epochs=3",
        "random_state=0",
    )  # fmt: skip
    for model, data, peer in ((ridge, "reg.csv", "sklearn"), (mlp, "small.csv", "torch")):
        run = subprocess.run(
            [sys.executable, "-m", "qed.cli", "certify", str(model), str(files / data),
             "--json", "--against", peer],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip
        got = strict_json(run.stdout)
        assert run.returncode == (0 if got["qed"]["certificate"]["holds"] else 1), run.stderr
        assert got["peer"]["name"] == peer
