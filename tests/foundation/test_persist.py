"""qed.save / qed.load: round trips, atomic writes, and hostile files that must be refused."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import qed
from qed.base import BaseEstimator
from qed.persist import FORMAT, VERSION, register


@register
class Toy(BaseEstimator):
    def __init__(self, alpha=1.0, *, tag="x"):
        self.alpha = alpha
        self.tag = tag


def _fitted_toy():
    t = Toy(alpha=0.5, tag="demo")
    t.coef_ = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    t.table_ = {"a": 1, 2: [1.5, float("nan"), float("-inf")], (1, 2): np.int16(7)}
    t.rng_ = np.random.default_rng(42)
    t.dtype_ = np.dtype(np.float32)
    t.self_ = t
    return t


def test_round_trip_is_exact(tmp_path):
    """Every supported value comes back equal, with dtypes, NaN/inf, tuples, RNG state, cycles."""
    t = _fitted_toy()
    path = tmp_path / "toy.qed"
    qed.save(t, path)
    u = qed.load(path)
    assert type(u) is Toy and u.get_params() == t.get_params()
    assert u.coef_.dtype == np.float32 and np.array_equal(u.coef_, t.coef_)
    assert u.table_["a"] == 1 and np.isnan(u.table_[2][1]) and u.table_[2][2] == -np.inf
    assert u.table_[(1, 2)] == 7 and u.table_[(1, 2)].dtype == np.int16
    assert u.dtype_ == np.float32
    assert u.self_ is u
    assert u.rng_.random() == t.rng_.random()


def test_unsaveable_values_raise_type_error(tmp_path):
    t = Toy()
    t.kernel_ = lambda a, b: a @ b.T
    with pytest.raises(TypeError, match="cannot store"):
        qed.save(t, tmp_path / "bad.qed")
    assert not (tmp_path / "bad.qed").exists()
    t = Toy()
    t.obj_ = np.array([{"a": 1}], dtype=object)
    with pytest.raises(TypeError, match="object arrays"):
        qed.save(t, tmp_path / "bad.qed")


def test_crash_mid_write_keeps_previous_file(tmp_path, monkeypatch):
    """A writer that dies half-way leaves the old file intact and no temporary behind."""
    path = tmp_path / "model.qed"
    qed.save(_fitted_toy(), path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(RuntimeError, match="disk on fire"):
        qed.save(_fitted_toy(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.qed"]


def _archive(path, meta, members=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        for name, data in (members or {}).items():
            zf.writestr(name, data)


class _Payload:
    """Unpickling this would create a file: the marker proves whether code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_file_is_refused_and_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.qed"
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ValueError, match="not a qed file"):
        qed.load(path)
    assert not marker.exists()


def test_pickled_array_inside_archive_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    np.save(buf, np.array([_Payload(str(marker))], dtype=object), allow_pickle=True)
    meta = {"format": FORMAT, "version": VERSION, "root": {"__kind__": "array", "ref": "a0.npy"}}
    _archive(tmp_path / "evil.qed", meta, {"a0.npy": buf.getvalue()})
    with pytest.raises(ValueError, match="not a plain numeric array"):
        qed.load(tmp_path / "evil.qed")
    assert not marker.exists()


@pytest.mark.parametrize(
    "root, match",
    [
        ({"__kind__": "object", "type": "os.system", "id": 0, "state": {}}, "not a registered"),
        (
            {"__kind__": "object", "type": "subprocess.Popen", "id": 0, "state": {}},
            "not a registered",
        ),
        ({"__kind__": "eval", "value": "1"}, "unknown tag"),
        ({"__kind__": "dtype", "name": "|O"}, "object dtype"),
        ({"__kind__": "array", "ref": "missing.npy"}, "missing"),
        ({"__kind__": "ref", "id": 9}, "not yet defined"),
    ],
)
def test_hostile_trees_are_refused(tmp_path, root, match):
    _archive(tmp_path / "h.qed", {"format": FORMAT, "version": VERSION, "root": root})
    with pytest.raises(ValueError, match=match):
        qed.load(tmp_path / "h.qed")


def test_unknown_version_and_format_are_refused(tmp_path):
    _archive(tmp_path / "v.qed", {"format": FORMAT, "version": VERSION + 1, "root": None})
    with pytest.raises(ValueError, match="version"):
        qed.load(tmp_path / "v.qed")
    _archive(tmp_path / "f.qed", {"format": "other", "version": VERSION, "root": None})
    with pytest.raises(ValueError, match="not a qed archive"):
        qed.load(tmp_path / "f.qed")


def test_truncated_and_corrupted_files_are_refused(tmp_path):
    path = tmp_path / "m.qed"
    qed.save(_fitted_toy(), path)
    data = path.read_bytes()
    (tmp_path / "trunc.qed").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        qed.load(tmp_path / "trunc.qed")
    flipped = bytearray(data)
    middle = len(flipped) // 3
    flipped[middle : middle + 16] = bytes(16)
    (tmp_path / "flip.qed").write_bytes(bytes(flipped))
    with pytest.raises(ValueError):
        qed.load(tmp_path / "flip.qed")
    (tmp_path / "empty.qed").write_bytes(b"")
    with pytest.raises(ValueError):
        qed.load(tmp_path / "empty.qed")
    with pytest.raises(FileNotFoundError):
        qed.load(tmp_path / "nope.qed")


def test_save_does_not_leave_temporaries(tmp_path):
    qed.save(_fitted_toy(), tmp_path / "a.qed")
    qed.save(_fitted_toy(), tmp_path / "a.qed")
    assert sorted(os.listdir(tmp_path)) == ["a.qed"]


def test_zero_d_and_string_arrays_round_trip(tmp_path):
    t = Toy()
    t.scalar_ = np.array(3.5)
    t.names_ = np.array(["a", "bb", "ccc"], dtype=object)
    t.grid_ = np.array([["x", "y"], ["z", "w"]], dtype=object)
    qed.save(t, tmp_path / "s.qed")
    u = qed.load(tmp_path / "s.qed")
    assert u.scalar_.shape == () and u.scalar_ == 3.5
    assert u.names_.dtype == object and list(u.names_) == ["a", "bb", "ccc"]
    assert u.grid_.shape == (2, 2) and u.grid_[1, 0] == "z"


def test_estimator_fitted_on_a_dataframe_loads_in_a_fresh_process(tmp_path):
    """Implicitly registered estimators load where nothing was saved before (a new process)."""
    import subprocess
    import sys

    import pandas as pd

    from qed.linear import LinearRegression

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.standard_normal((20, 2)), columns=["u", "v"])
    model = LinearRegression().fit(df, df["u"] * 2 - df["v"])
    qed.save(model, tmp_path / "lr.qed")
    code = (
        "import json, sys, qed; m = qed.load(sys.argv[1]); "
        "print(json.dumps([type(m).__name__, list(m.feature_names_in_), m.coef_.tolist()]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "lr.qed")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    name, names, coef = json.loads(out)
    assert name == "LinearRegression" and names == ["u", "v"]
    assert coef == model.coef_.tolist()
