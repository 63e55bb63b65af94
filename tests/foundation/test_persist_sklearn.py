"""qed.save/qed.load of scikit-learn pipelines holding qed estimators (issue 12).

Fitted ``Pipeline``/``ColumnTransformer`` objects mixing qed's estimators with scikit-learn's
standard preprocessing load in a fresh process and predict bit for bit what they predicted
before saving; anything holding code (a callable) is refused at save time.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, OneHotEncoder, StandardScaler

import qed
from qed._persist_archive import digest
from qed.classify import LogisticRegression
from qed.linear import PolynomialFeatures, Ridge
from qed.nn import MLPClassifier

# the test data deliberately holds categories unseen in training (handle_unknown="ignore")
pytestmark = pytest.mark.filterwarnings("ignore:Found unknown categories:UserWarning")


def _frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    a[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "a": a,
            "b": rng.standard_normal(n) * 3 + 1,
            "c": rng.choice(np.array(["red", "green", "blue", None], dtype=object), n),
            "d": rng.integers(0, 5, n),
            "e": rng.choice(["s", "m", "l", "xl"], n),
        }
    )


TRAIN, TEST = _frame(0, 120), _frame(1, 40)
TEST.loc[0, "c"] = "purple"  # a category never seen in training: handle_unknown="ignore"
TEST.loc[1, "e"] = "xxl"
Y_REG = TRAIN["b"].to_numpy() * 0.5 - TRAIN["d"].to_numpy() + np.nan_to_num(TRAIN["a"].to_numpy())
Y_CLS = np.where(TRAIN["b"] > 1, "high", "low")


def _categorical(**ohe):
    return make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", **ohe),
    )


def _pipelines():
    """(name, fitted pipeline, methods to compare)."""
    ridge = make_pipeline(
        ColumnTransformer(
            [
                (
                    "num",
                    make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()),
                    ["a", "b"],
                ),
                ("cat", _categorical(drop="first", dtype=np.float64, sparse_output=False), ["c"]),
                ("size", MinMaxScaler(feature_range=(-1, 1)), ["d"]),
            ],
            remainder="drop",
        ),
        PolynomialFeatures(degree=2),
        Ridge(alpha=0.3),
    ).fit(TRAIN, Y_REG)
    logistic = Pipeline(
        [
            (
                "columns",
                ColumnTransformer(
                    [
                        ("num", SimpleImputer(strategy="median"), ["a"]),
                        ("cat", _categorical(drop="if_binary", sparse_output=False), ["c", "e"]),
                    ],
                    remainder="passthrough",
                    verbose_feature_names_out=False,
                ),
            ),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(C=0.5)),
        ]
    ).fit(TRAIN, Y_CLS)
    mlp = make_pipeline(
        ColumnTransformer(
            [
                ("num", SimpleImputer(fill_value=0.0, strategy="constant"), [0, 1]),
                ("cat", _categorical(min_frequency=10, sparse_output=False), slice(2, 3)),
            ],
            remainder="passthrough",
        ),
        MinMaxScaler(),
        MLPClassifier(hidden_layer_sizes=(8,), epochs=5, batch_size=32, random_state=0),
    ).fit(TRAIN[["a", "b", "c", "d"]].to_numpy(dtype=object), Y_CLS)
    sparse = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(categories=[["red", "green", "blue"]], handle_unknown="ignore"),
                ["c"],
            ),
            ("size", OneHotEncoder(drop=["m"], handle_unknown="ignore"), ["e"]),
        ],
        sparse_threshold=1.0,
    ).fit(TRAIN.fillna({"c": "red"}))
    frame = (
        ColumnTransformer(
            [("num", StandardScaler(), ["a", "b"]), ("d", "passthrough", ["d"])],
            remainder="drop",
        )
        .set_output(transform="pandas")
        .fit(TRAIN)
    )
    return [
        ("ridge", ridge, ["predict"], TEST),
        ("logistic", logistic, ["predict", "predict_proba", "decision_function"], TEST),
        ("mlp", mlp, ["predict", "predict_proba"], TEST[["a", "b", "c", "d"]].to_numpy(object)),
        ("sparse", sparse, ["transform"], TEST.fillna({"c": "red"})),
        ("frame", frame, ["transform"], TEST),
    ]


def _fingerprint(value) -> list:
    """Everything that makes two outputs bit-identical: type, dtype, shape, bytes."""
    import scipy.sparse

    if isinstance(value, pd.DataFrame):
        return ["frame", list(map(str, value.columns))] + _fingerprint(value.to_numpy())
    if scipy.sparse.issparse(value):
        value = value.tocsr()
        parts = [value.data, value.indices, value.indptr]
        return ["sparse", list(value.shape)] + [_fingerprint(p) for p in parts]
    value = np.asarray(value)
    if value.dtype == object:
        return ["object", list(value.shape), [repr(v) for v in value.ravel()]]
    return [str(value.dtype), list(value.shape), value.tobytes().hex()]


CHILD = textwrap.dedent("""
    import json, pickle, sys
    import numpy as np
    import pandas as pd
    import qed
    {fingerprint}
    cases = pickle.load(open(sys.argv[1], "rb"))  # the test's own inputs, not a model
    out = {{}}
    for name, methods, X in cases:
        model = qed.load(sys.argv[2] + "/" + name + ".qed")
        out[name] = [type(model).__name__] + [_fingerprint(getattr(model, m)(X)) for m in methods]
    print(json.dumps(out))
""")


def test_pipelines_round_trip_bit_for_bit_in_a_fresh_process(tmp_path):
    import pickle

    expected, cases = {}, []
    for name, model, methods, X in _pipelines():
        expected[name] = [type(model).__name__] + [
            _fingerprint(getattr(model, m)(X)) for m in methods
        ]
        qed.save(model, tmp_path / f"{name}.qed")
        loaded = qed.load(tmp_path / f"{name}.qed")  # and in this process, too
        got = [type(loaded).__name__] + [_fingerprint(getattr(loaded, m)(X)) for m in methods]
        assert got == expected[name], name
        assert repr(loaded) == repr(model)
        cases.append((name, methods, X))
    with open(tmp_path / "cases.pkl", "wb") as fh:
        pickle.dump(cases, fh)
    script = tmp_path / "child.py"
    fingerprint = inspect.getsource(_fingerprint)
    script.write_text(CHILD.format(fingerprint=fingerprint))
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "cases.pkl"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout) == expected


def test_loaded_pipeline_keeps_its_structure_and_parameters(tmp_path):
    name, model, _, _ = _pipelines()[1]
    qed.save(model, tmp_path / "p.qed")
    loaded = qed.load(tmp_path / "p.qed")
    assert [type(s) for _, s in loaded.steps] == [type(s) for _, s in model.steps]
    columns = loaded.named_steps["columns"]
    assert list(columns.get_feature_names_out()) == list(
        model.named_steps["columns"].get_feature_names_out()
    )
    assert columns.output_indices_ == model.named_steps["columns"].output_indices_
    ohe = columns.named_transformers_["cat"][-1]
    assert ohe.dtype is np.float64 and all(c.dtype == object for c in ohe.categories_)
    assert loaded.get_params(deep=False).keys() == model.get_params(deep=False).keys()
    # shared sub-estimators stay shared: transformers_ are clones, steps hold the same objects
    assert loaded.steps[0][1] is loaded.named_steps["columns"]


@pytest.mark.parametrize(
    "make, match",
    [
        (
            lambda: ColumnTransformer(
                [("num", StandardScaler(), make_column_selector(dtype_include="number"))]
            ).fit(TRAIN[["a", "b"]].fillna(0)),
            "column selector",
        ),
        (
            lambda: ColumnTransformer([("num", StandardScaler(), lambda df: ["b"])]).fit(TRAIN),
            "column selector",
        ),
        (lambda: FunctionTransformer(np.log1p).fit(np.ones((3, 2))), "func="),
        (
            lambda: make_pipeline(FunctionTransformer(inverse_func=np.exp), Ridge()).fit(
                np.ones((3, 2)), np.arange(3.0)
            ),
            "inverse_func=",
        ),
    ],
)
def test_callables_are_refused_at_save_time(tmp_path, make, match):
    with pytest.raises(ValueError, match=match):
        qed.save(make(), tmp_path / "c.qed")
    assert list(tmp_path.iterdir()) == []


def test_types_off_the_allow_list_are_refused(tmp_path):
    from sklearn.decomposition import PCA

    class MyScaler(StandardScaler):  # a subclass may carry code: never saved as its parent
        pass

    for model in (PCA(n_components=1).fit(np.eye(3)), MyScaler().fit(np.eye(3))):
        with pytest.raises(TypeError, match="cannot store"):
            qed.save(make_pipeline(model), tmp_path / "x.qed")


def _reseal(path, edit):
    """Rewrite meta.json through ``edit`` and recompute the checksum, as a forger would."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist() if n != "sha256"}
    meta = json.loads(members["meta.json"])
    edit(meta)
    members["meta.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
        zf.writestr("sha256", digest((n, [members[n]]) for n in sorted(members)))


def _state(meta):
    return {k: v for k, v in meta["root"]["state"]["items"]}


def _set(meta, key, value):
    for item in meta["root"]["state"]["items"]:
        if item[0] == key:
            item[1] = value


def test_sklearn_version_is_checked_through_setstate(tmp_path):
    path = tmp_path / "s.qed"
    qed.save(StandardScaler().fit(np.arange(6.0).reshape(3, 2)), path)
    assert _state(json.loads(zipfile.ZipFile(path).read("meta.json")))["_sklearn_version"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        qed.load(path)  # same version: silent
    _reseal(path, lambda meta: _set(meta, "_sklearn_version", "0.1"))
    with pytest.warns(InconsistentVersionWarning):
        qed.load(path)


@pytest.mark.parametrize(
    "key, value",
    [("with_mean", "yes"), ("copy", 3), ("with_std", None)],
)
def test_forged_parameters_are_refused_by_sklearns_own_rules(tmp_path, key, value):
    path = tmp_path / "s.qed"
    qed.save(StandardScaler().fit(np.arange(6.0).reshape(3, 2)), path)
    _reseal(path, lambda meta: _set(meta, key, value))
    with pytest.raises(ValueError, match=key):
        qed.load(path)


def test_private_module_paths_are_not_accepted(tmp_path):
    path = tmp_path / "s.qed"
    qed.save(StandardScaler().fit(np.eye(2)), path)

    def private(meta):
        meta["root"]["type"] = "sklearn.preprocessing._data.StandardScaler"

    _reseal(path, private)
    with pytest.raises(ValueError, match="allow-list"):
        qed.load(path)


def test_saving_and_loading_qed_objects_does_not_import_sklearn(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        import qed
        from qed.optim import SGD
        from qed.autograd import Tensor
        p = [Tensor(np.ones(3))]
        qed.save({{"w": np.ones(3), "opt": SGD(p, lr=0.1), "s": slice(1, 2)}}, {str(tmp_path / "a.qed")!r})
        qed.load({str(tmp_path / "a.qed")!r})
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "pandas")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
