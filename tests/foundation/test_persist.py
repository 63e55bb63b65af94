"""qed.save / qed.load: round trips, atomic writes, and hostile files that must be refused."""

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import qed
from qed._persist_archive import digest
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


def _archive(path, meta, members=None, *, seal=True):
    """A hand-made archive; sealed with a correct checksum, as a deliberate forger would."""
    members = {"meta.json": json.dumps(meta).encode(), **(members or {})}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if seal:
            zf.writestr("sha256", digest((n, [members[n]]) for n in sorted(members)))


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
        ({"__kind__": "object", "type": "os.system", "id": 0, "state": {}}, "registered qed type"),
        (
            {"__kind__": "object", "type": "subprocess.Popen", "id": 0, "state": {}},
            "registered qed type",
        ),
        ({"__kind__": "eval", "value": "1"}, "unknown tag"),
        ({"__kind__": "scalar", "dtype": "|O", "value": 1}, "may not hold"),
        ({"__kind__": "scalartype", "name": "|V8"}, "may not hold"),
        ({"__kind__": "dtype", "name": "i4,f8"}, "may not hold"),
        ({"__kind__": "object", "type": "sklearn.svm.SVC", "id": 0, "state": {}}, "allow-list"),
        ({"__kind__": "objarray", "shape": [3], "items": [1, 2]}, "does not match"),
        ({"__kind__": "objarray", "shape": [1], "items": [[1]]}, "unexpected array element"),
        ({"__kind__": "slice", "start": 1.5, "stop": None, "step": None}, "non-integers"),
        ({"__kind__": "pytype", "name": "eval"}, "unknown type value"),
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


def test_scikit_learn_values_round_trip(tmp_path):
    """Slices, numpy scalar types, builtin types and object arrays of str/None/NaN/mixed."""
    t = Toy()
    t.slices_ = {"a": slice(0, 3), "b": slice(None, None, -1), "c": slice(np.int64(2), None)}
    t.types_ = [np.float64, np.int32, np.bool_, np.str_, float, int, bool, str, complex]
    t.dtypes_ = [np.dtype("O"), np.dtype(">f4"), np.dtype("<U3")]
    t.mixed_ = np.array(["x", None, np.nan, 3, 2.5, True, np.float32(1.5), "", "ü"], dtype=object)
    t.cats_ = [np.array(["a", "b", None], dtype=object), np.array([np.nan, "z"], dtype=object)]
    t.scalars_ = (np.float32(np.inf), np.bytes_(b"ab\xff"), np.str_("s"), np.bool_(False))
    qed.save(t, tmp_path / "v.qed")
    u = qed.load(tmp_path / "v.qed")
    assert u.slices_ == {"a": slice(0, 3), "b": slice(None, None, -1), "c": slice(2, None)}
    assert u.types_ == t.types_ and all(a is b for a, b in zip(u.types_, t.types_))
    assert u.dtypes_ == t.dtypes_
    assert u.mixed_.dtype == object and u.mixed_.shape == (9,)
    for a, b in zip(u.mixed_, t.mixed_):
        assert type(a) is type(b) and (a == b or (a != a and b != b))
    assert u.cats_[0][2] is None and np.isnan(u.cats_[1][0]) and u.cats_[1][1] == "z"
    assert [type(v) for v in u.scalars_] == [type(v) for v in t.scalars_]
    assert u.scalars_[0] == np.inf and u.scalars_[1] == b"ab\xff" and u.scalars_[2] == "s"


class _Versioned(BaseEstimator):
    """Records a version in __getstate__ and checks it in __setstate__, as sklearn does."""

    def __init__(self, k=1):
        self.k = k

    def __getstate__(self):
        return {**self.__dict__, "_version": "7"}

    def __setstate__(self, state):
        state = dict(state)
        self.restored_from_ = state.pop("_version")
        self.__dict__.update(state)


register(_Versioned)


def test_getstate_and_setstate_are_respected(tmp_path):
    qed.save(_Versioned(k=3), tmp_path / "g.qed")
    u = qed.load(tmp_path / "g.qed")
    assert u.k == 3 and u.restored_from_ == "7" and "_version" not in vars(u)


def test_values_that_need_pickle_are_refused_at_save(tmp_path):
    for bad in (
        np.array([None, [1]], dtype=object),
        np.array([{"a": 1}], dtype=object),
        np.zeros(2, dtype="i4,f8"),
        np.zeros(2, dtype="V4"),
        slice(0.5, 1),
        type("Custom", (), {}),
        np.dtype("i4,f8"),
        np.dtype("(2,)f8"),
        np.void(b"ab"),
    ):
        t = Toy()
        t.value_ = bad
        with pytest.raises(TypeError, match="cannot store"):
            qed.save(t, tmp_path / "bad.qed")
    assert not (tmp_path / "bad.qed").exists()


def test_nesting_deeper_than_the_limit_is_refused_on_both_sides(tmp_path):
    deep: list = []
    for _ in range(qed.persist.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        qed.save(deep, tmp_path / "deep.qed")
    root: object = None
    for _ in range(qed.persist.MAX_DEPTH + 5):
        root = {"__kind__": "tuple", "items": [root]}
    _archive(tmp_path / "deep.qed", {"format": FORMAT, "version": VERSION, "root": root})
    with pytest.raises(ValueError, match="nested deeper"):
        qed.load(tmp_path / "deep.qed")
    # deeper than json's own recursion limit: still a ValueError, not a RecursionError
    text = '{"format": "qed-archive", "version": 2, "root": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with zipfile.ZipFile(tmp_path / "json.qed", "w") as zf:
        zf.writestr("meta.json", text)
        zf.writestr("sha256", digest([("meta.json", [text.encode()])]))
    with pytest.raises(ValueError, match="not valid JSON"):
        qed.load(tmp_path / "json.qed")


def _npy(header: str, payload: bytes = b"") -> bytes:
    header = header + " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


@pytest.mark.parametrize(
    "member, match",
    [
        # a trillion-element shape with 8 bytes of data: refused before allocating anything
        (_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,), }", bytes(8)), "valid"),
        (_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"), "holds"),
        (_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", bytes(8)), "holds"),
        (_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"), "shape"),
        (_npy("{'descr': '|V0', 'fortran_order': False, 'shape': (10,), }"), "plain numeric"),
        (_npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }"), "plain"),
        (_npy("{'descr': '<f8', 'fortran_order': False, 'shape': " + "(" * 500), "valid"),
        (b"\x93NUMPY\x03\x00" + bytes(20), "valid"),
        (b"not an array", "valid"),
    ],
)
def test_lying_npy_headers_are_refused(tmp_path, member, match):
    meta = {"format": FORMAT, "version": VERSION, "root": {"__kind__": "array", "ref": "a0.npy"}}
    _archive(tmp_path / "n.qed", meta, {"a0.npy": member})
    with pytest.raises(ValueError, match=match):
        qed.load(tmp_path / "n.qed")


def test_checksum_detects_edited_and_unsealed_files(tmp_path):
    path = tmp_path / "m.qed"
    qed.save(_fitted_toy(), path)
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["meta.json"])
    meta["root"]["state"]["items"][0][1] = 0.75  # alpha, edited by a tool unaware of the format
    edited = {**members, "meta.json": json.dumps(meta).encode()}
    for name, contents in [
        ("edited.qed", edited),
        ("unsealed.qed", {k: v for k, v in members.items() if k != "sha256"}),
        ("extra.qed", {**members, "notes.txt": b"hello"}),
    ]:
        with zipfile.ZipFile(tmp_path / name, "w") as zf:
            for k, v in contents.items():
                zf.writestr(k, v)
        with pytest.raises(ValueError, match="checksum|sha256"):
            qed.load(tmp_path / name)


def test_encrypted_or_unsupported_members_are_value_errors(tmp_path):
    path = tmp_path / "m.qed"
    qed.save(_fitted_toy(), path)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")  # the first central-directory entry
    encrypted = bytearray(data)
    encrypted[central + 8] |= 1  # general-purpose flag, bit 0: encrypted (RuntimeError in zipfile)
    (tmp_path / "enc.qed").write_bytes(bytes(encrypted))
    with pytest.raises(ValueError, match="RuntimeError"):
        qed.load(tmp_path / "enc.qed")
    method = bytearray(data)
    method[central + 10 : central + 12] = (99).to_bytes(2, "little")  # AES: NotImplementedError
    (tmp_path / "method.qed").write_bytes(bytes(method))
    with pytest.raises(ValueError, match="NotImplementedError"):
        qed.load(tmp_path / "method.qed")


def test_zip_bomb_is_refused_before_inflating(tmp_path):
    meta = json.dumps({"format": FORMAT, "version": VERSION, "root": None})
    text = (meta[:-1] + " " * 20_000_000 + "}").encode()  # valid JSON, 20 MB of spaces
    with zipfile.ZipFile(tmp_path / "bomb.qed", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.json", text)
        zf.writestr("sha256", digest([("meta.json", [text])]))
    assert (tmp_path / "bomb.qed").stat().st_size < 100_000
    with pytest.raises(ValueError, match="inflates"):
        qed.load(tmp_path / "bomb.qed")


def test_machine_errors_are_not_reported_as_corrupted_files(tmp_path):
    with pytest.raises(IsADirectoryError):
        qed.load(tmp_path)


def test_sparse_matrices_round_trip_and_bad_ones_are_refused(tmp_path):
    """CSR/CSC are stored as three plain arrays; a structure that does not add up (an index
    out of range, a wrong format name) is refused before anything uses it."""
    from scipy import sparse

    for fmt in ("csr", "csc", "coo"):
        A = sparse.random(6, 5, density=0.4, random_state=1, format=fmt)
        qed.save({"A": A}, tmp_path / "s.qed")
        B = qed.load(tmp_path / "s.qed")["A"]
        assert B.format == ("csc" if fmt == "csc" else "csr")
        np.testing.assert_array_equal(B.toarray(), A.toarray())

    def arrays(indices):
        out = {}
        for k, v in (("d", [1.0, 2.0]), ("i", indices), ("p", [0, 1, 2])):
            buf = io.BytesIO()
            np.save(buf, np.asarray(v))
            out[f"{k}.npy"] = buf.getvalue()
        return out

    names = {"data": "d", "indices": "i", "indptr": "p"}
    refs = {k: {"__kind__": "array", "ref": f"{v}.npy"} for k, v in names.items()}
    for fmt, indices, match in (("csr", [0, 99], "invalid sparse"), ("bsr", [0, 1], "malformed")):
        root = {"__kind__": "sparse", "format": fmt, "shape": [2, 3], **refs}
        meta = {"format": FORMAT, "version": VERSION, "root": root}
        _archive(tmp_path / "h.qed", meta, arrays(indices))
        with pytest.raises(ValueError, match=match):
            qed.load(tmp_path / "h.qed")
