"""Fuzzing ``qed.load`` with mutated copies of valid files (issue 12: saving pipelines, safely).

Two kinds of hostile file, two oracles:

- **Damaged** files (bytes flipped, truncated or appended, zip members renamed, dropped,
  duplicated, replaced or added, JSON fields edited without recomputing the checksum): loading
  ends in ``ValueError``, or, when the damage only touched zip bookkeeping (a timestamp, a
  local-header copy of a field), the file loads and predicts bit for bit what it predicted.
- **Forged** files (the same JSON and ``.npy`` edits, then the checksum recomputed, as someone
  who knows the format would): loading ends in ``ValueError`` or returns an object, never any
  other exception, never imports a module the file names. A forged file that loads is a
  different model, so its predictions are not compared.

Every case must end within hypothesis' deadline (no hang). Cases run derandomized, so CI sees
the same 2,500 files each time; ``QED_FUZZ_SCALE=20`` runs 20 times as many random ones.
"""

from __future__ import annotations

import copy
import io
import json
import os
import sys
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, StandardScaler

import qed
from qed._persist_archive import digest
from qed.linear import PolynomialFeatures, Ridge
from qed.nn import MLPClassifier

SCALE = int(os.environ.get("QED_FUZZ_SCALE", "1"))
# forged files may claim another scikit-learn version: sklearn warns, as it should
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.InconsistentVersionWarning")


def _fuzz(examples: int):
    return settings(
        max_examples=examples * SCALE,
        deadline=10_000,  # ms per case (~1 ms typical): a hang fails, a busy CI machine does not
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    a[::7] = np.nan
    return pd.DataFrame(
        {
            "a": a,
            "b": rng.standard_normal(n),
            "c": rng.choice(np.array(["x", "y", "z", None], dtype=object), n),
            "d": rng.integers(0, 4, n),
        }
    )


def _bases() -> list[tuple[object, object, str]]:
    """(fitted model, input, method): a sklearn/qed pipeline and a qed network."""
    train, test = _frame(0, 60), _frame(1, 12)
    y = train["b"].to_numpy() - train["d"].to_numpy()
    pipeline = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["a", "b"]),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore", drop="first", sparse_output=False),
                    ),
                    ["c"],
                ),
            ],
            remainder=MinMaxScaler(),
        ),
        PolynomialFeatures(degree=2),
        Ridge(alpha=0.5),
    ).fit(train, y)
    X = np.random.default_rng(2).standard_normal((40, 3))
    mlp = MLPClassifier(hidden_layer_sizes=(4,), batch_norm=True, epochs=2, random_state=0)
    mlp.fit(X, np.where(X[:, 0] > 0, "p", "n"))
    return [(pipeline, test, "predict"), (mlp, X[:9], "predict_proba")]


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members: list[tuple[str, bytes]], *, seal: bool) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():  # zipfile warns when asked to write a duplicate name
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members:
                if not (seal and name == "sha256"):
                    zf.writestr(name, data)
            if seal:  # the digest a forger computes: over the members as finally written
                body = {n: d for n, d in members if n != "sha256"}
                zf.writestr("sha256", digest((n, [body[n]]) for n in sorted(body)))
    return buf.getvalue()


class Case:
    """One valid file, its decoded members and what its model predicted."""

    def __init__(self, model, X, method, folder) -> None:
        path = folder / f"{type(model).__name__}.qed"
        qed.save(model, path)
        self.data = path.read_bytes()
        self.members = _members(self.data)
        self.meta = json.loads(self.members["meta.json"])
        self.paths = list(_paths(self.meta))
        self.arrays = sorted(n for n in self.members if n.endswith(".npy"))
        self.X, self.method = X, method
        self.expected = self.predict(model)

    def predict(self, model) -> tuple:
        out = np.asarray(getattr(model, self.method)(self.X))
        return out.dtype.str, out.shape, out.tobytes()


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    made = [Case(m, X, method, folder) for m, X, method in _bases()]
    for case in made:  # import everything a valid load needs before the sys.modules checks
        path = folder / "check.qed"
        path.write_bytes(case.data)
        assert case.predict(qed.load(path)) == case.expected
    qed.persist.registered_types()
    return made, folder / "mutant.qed"


def _load(path, data: bytes):
    """The loaded object, or None for a ValueError; any other exception fails the test."""
    path.write_bytes(data)
    try:
        return qed.load(path)
    except ValueError:
        return None


def _damaged_oracle(case: Case, path, data: bytes) -> None:
    model = _load(path, data)
    if model is not None:
        assert case.predict(model) == case.expected


# modules that no valid qed file needs: importing one while loading would mean a name from the
# file was imported ("this" prints the Zen of Python on import: harmless, and easy to spot)
SENTINELS = ("this", "sklearn.svm", "sklearn.decomposition", "pydoc", "ctypes.util", "smtplib")


def _forged_oracle(path, data: bytes) -> None:
    before = {m for m in SENTINELS if m in sys.modules}
    _load(path, data)
    assert {m for m in SENTINELS if m in sys.modules} == before


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _replace(tree, path, value):
    if not path:
        return value
    tree = copy.deepcopy(tree)
    node = tree
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return tree


def _get(tree, path):
    for key in path:
        tree = tree[key]
    return tree


# ---------------------------------------------------------------------------------------------
# damaged files


@_fuzz(700)
@given(
    which=st.integers(0, 1),
    flips=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=8
    ),
)
def test_flipped_bytes_fail_cleanly_or_change_nothing(cases, which, flips):
    made, path = cases
    case = made[which]
    data = bytearray(case.data)
    for where, mask in flips:
        data[int(where * len(data))] ^= mask
    _damaged_oracle(case, path, bytes(data))


@_fuzz(300)
@given(
    which=st.integers(0, 1),
    cut=st.floats(0, 1),
    head=st.binary(max_size=8),
    tail=st.binary(max_size=64),
)
def test_truncated_or_padded_files_fail_cleanly_or_change_nothing(cases, which, cut, head, tail):
    made, path = cases
    case = made[which]
    _damaged_oracle(case, path, head + case.data[: int(cut * len(case.data))] + tail)


MEMBER_OPS = ("drop", "rename", "duplicate", "swap", "random", "add", "empty", "reorder")


@_fuzz(300)
@given(which=st.integers(0, 1), op=st.sampled_from(MEMBER_OPS), data=st.data())
def test_member_surgery_fails_cleanly_or_changes_nothing(cases, which, op, data):
    made, path = cases
    case = made[which]
    members = list(case.members.items())
    i = data.draw(st.sampled_from(range(len(members))), label="member")
    name, body = members[i]
    if op == "drop":
        del members[i]
    elif op == "rename":
        members[i] = (
            data.draw(st.sampled_from(["a999.npy", "meta", name + "x", "sha256", "meta.json"])),
            body,
        )
    elif op == "duplicate":
        members.append((name, body))
    elif op == "swap":
        members[i] = (name, members[data.draw(st.sampled_from(range(len(members))))][1])
    elif op == "random":
        members[i] = (name, data.draw(st.binary(max_size=200), label="bytes"))
    elif op == "add":
        # any name zipfile can write (NUL ends a name there; surrogates are not UTF-8)
        chars = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
        members.append((data.draw(st.text(chars, min_size=1, max_size=12)), b"extra"))
    elif op == "empty":
        members[i] = (name, b"")
    else:
        members.reverse()  # order does not matter: this one must load and predict the same
    _damaged_oracle(case, path, _zip(members, seal=False))


# ---------------------------------------------------------------------------------------------
# JSON edits: without the checksum (damage) and with it recomputed (forgery)

TAGS = (
    "array objarray float scalar dtype scalartype pytype slice tuple dict generator ref object "
    "strarray eval"
).split()
TYPE_NAMES = [
    "qed.linear.ridge.Ridge",
    "qed.nn.module.Parameter",
    "qed.persist._Encoder",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing.OneHotEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.svm.SVC",
    "sklearn.decomposition.PCA",
    "this.s",
    "os.system",
    "builtins.eval",
    "pydoc.locate",
    "smtplib.SMTP",
]
DTYPES = ["<f8", ">f4", "|b1", "<i8", "|O", "O", "|V8", "<U0", "|S3", "<M8[ns]", "i4,f8"]
DTYPES += ["(2,)f8", "<U1000000000", "f" * 40, "", "<c16", "<f2", "V0", "object"]
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["nan", "inf", "a0.npy", "meta.json", "sha256", "missing.npy", "0"]),
)
SHAPES = st.lists(st.one_of(st.integers(-2, 4), st.just(10**12), JSON_LEAF), max_size=4)


def _nested(depth: int, tag: bool) -> object:
    node: object = 1
    for _ in range(depth // 2 if tag else depth):  # a tagged level is two JSON levels
        node = {"__kind__": "tuple", "items": [node]} if tag else [node]
    return node


TAGGED = st.fixed_dictionaries(
    {"__kind__": st.sampled_from(TAGS)},
    optional={
        "ref": JSON_LEAF,
        "items": st.lists(st.one_of(JSON_LEAF, st.lists(JSON_LEAF, max_size=3)), max_size=5),
        "shape": SHAPES,
        "dtype": st.sampled_from(DTYPES),
        "name": st.one_of(st.sampled_from(DTYPES + ["float", "eval"]), JSON_LEAF),
        "value": JSON_LEAF,
        "id": st.one_of(st.integers(-1, 40), JSON_LEAF),
        "type": st.one_of(st.sampled_from(TYPE_NAMES), JSON_LEAF),
        "state": st.one_of(JSON_LEAF, st.just({"__kind__": "dict", "items": []})),
        "bit_generator": st.sampled_from(["PCG64", "MT19937", "os"]),
        "start": JSON_LEAF,
        "stop": JSON_LEAF,
        "step": JSON_LEAF,
    },
)
REPLACEMENT = st.one_of(
    JSON_LEAF,
    TAGGED,
    st.lists(JSON_LEAF, max_size=4),
    st.dictionaries(st.text(max_size=8), JSON_LEAF, max_size=3),
    st.builds(_nested, st.integers(150, 800), st.booleans()),
)


def _edited_meta(case: Case, data) -> dict:
    path = data.draw(st.sampled_from(case.paths), label="path")
    how = data.draw(st.sampled_from(["replace", "splice", "drop_key", "tag"]), label="how")
    node = _get(case.meta, path)
    if how == "splice":  # another part of the same tree: a realistic type confusion
        other = data.draw(st.sampled_from(case.paths), label="other")
        value = copy.deepcopy(_get(case.meta, other))
    elif how == "drop_key" and isinstance(node, dict) and node:
        value = dict(node)
        del value[data.draw(st.sampled_from(sorted(node)), label="key")]
    elif how == "tag" and isinstance(node, dict) and "__kind__" in node:
        value = {**node, "__kind__": data.draw(st.sampled_from(TAGS), label="tag")}
    else:
        value = data.draw(REPLACEMENT, label="value")
    return _replace(case.meta, path, value)


def _with_meta(case: Case, meta, *, seal: bool) -> bytes:
    text = json.dumps(meta).encode()
    members = [(n, text if n == "meta.json" else b) for n, b in case.members.items()]
    return _zip(members, seal=seal)


@_fuzz(200)
@given(which=st.integers(0, 1), data=st.data())
def test_edited_json_without_the_checksum_is_refused(cases, which, data):
    made, path = cases
    case = made[which]
    meta = _edited_meta(case, data)
    outcome = _load(path, _with_meta(case, meta, seal=False))
    if json.dumps(meta) != json.dumps(case.meta):  # not ==: 1 == True, yet "1" != "true"
        assert outcome is None
    else:  # the edit wrote back what was there
        assert case.predict(outcome) == case.expected


@_fuzz(700)
@given(which=st.integers(0, 1), data=st.data())
def test_forged_json_fails_with_value_error_or_loads_without_importing(cases, which, data):
    made, path = cases
    case = made[which]
    _forged_oracle(path, _with_meta(case, _edited_meta(case, data), seal=True))


def _npy(descr, shape, fortran, payload: bytes) -> bytes:
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape})
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


NPY = st.one_of(
    st.builds(
        _npy,
        st.one_of(st.sampled_from(DTYPES), st.just([("a", "<i4")]), JSON_LEAF),
        st.one_of(
            st.lists(st.one_of(st.integers(-1, 5), st.just(2**62)), max_size=3).map(tuple),
            JSON_LEAF,
        ),
        st.one_of(st.booleans(), JSON_LEAF),
        st.binary(max_size=96),
    ),
    st.binary(max_size=64).map(lambda b: b"\x93NUMPY" + b),
    st.binary(max_size=64),
)


@_fuzz(300)
@given(which=st.integers(0, 1), data=st.data())
def test_forged_npy_members_fail_with_value_error_or_load(cases, which, data):
    made, path = cases
    case = made[which]
    target = data.draw(st.sampled_from(case.arrays), label="array")
    forged = data.draw(NPY, label="npy")
    members = [(n, forged if n == target else b) for n, b in case.members.items()]
    _forged_oracle(path, _zip(members, seal=True))
