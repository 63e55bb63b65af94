"""The container of a ``.qed`` file: a zip archive of ``meta.json``, ``.npy`` members and a
SHA-256 checksum, written atomically and read defensively (package-private; see ``qed.persist``).

The checksum member ``sha256`` holds the hex digest of every other member (name, bytes and
length, in name order). It guards against accidental corruption and against tools that rewrite
a member, not against a deliberate forger (who can recompute it): the decoder stays safe on
any input on its own. Every way a file can fail to be read ends in ``ValueError``.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import math
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np

CHECKSUM = "sha256"
META = "meta.json"
_MAX_MEMBERS = 100_000
_MAX_RATIO = 1000
# What reading a damaged zip member can raise: bad headers and CRCs, truncated or undecodable
# streams, encrypted or unsupported compression methods (RuntimeError, NotImplementedError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    OverflowError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
)
# Array kinds a .npy member may hold: numbers, booleans, strings, dates. Never objects
# (pickle) and never raw or structured records.
_NPY_KINDS = frozenset("biufcSUmM")


def digest(members: Iterable[tuple[str, Iterable[bytes]]]) -> str:
    """SHA-256 over ``(name, chunks)`` pairs, each framed by its name and byte count."""
    h = hashlib.sha256()
    for name, chunks in members:
        raw = name.encode("utf-8")
        h.update(len(raw).to_bytes(8, "little") + raw)
        size = 0
        for chunk in chunks:
            h.update(chunk)
            size += len(chunk)
        h.update(size.to_bytes(8, "little"))
    return h.hexdigest()


def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def write(path: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` and ``arrays`` to ``path`` through a temporary file and ``os.replace``."""
    members = {META: json.dumps(meta, allow_nan=False).encode("utf-8")}
    for key, array in arrays.items():
        members[key] = npy_bytes(array)
    checksum = digest((name, [members[name]]) for name in sorted(members))
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".qed-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            for name, data in members.items():
                # weights barely compress, and deflating them costs ~100x the write itself
                zf.writestr(
                    name, data, zipfile.ZIP_DEFLATED if name == META else zipfile.ZIP_STORED
                )
            zf.writestr(CHECKSUM, checksum)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Archive:
    """An opened, checksum-verified ``.qed`` archive: ``meta`` and ``array(name)``."""

    def __init__(self, path: str) -> None:
        self.path = path
        # opening the file may fail for reasons of the machine (permissions, a folder): those
        # OSErrors are not about the contents and propagate as they are
        self._file = open(path, "rb")  # closed by close()
        try:
            self._zip = zipfile.ZipFile(self._file, "r")
        except _ZIP_ERRORS as exc:
            self._file.close()
            raise ValueError(
                f"{path!r} is not a qed file (not a readable zip archive: {exc}); qed.load "
                "reads only files written by qed.save."
            ) from exc
        try:
            self.meta = self._verify()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, what: str, exc: BaseException | None = None) -> ValueError:
        detail = f" ({type(exc).__name__}: {exc})" if exc is not None else ""
        return ValueError(f"{self.path!r} is corrupted or not a qed file: {what}{detail}.")

    def _verify(self) -> Any:
        infos = self._zip.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise self._fail(f"{len(infos)} members")
        for info in infos:
            # qed stores arrays uncompressed and deflates only meta.json: a member inflating
            # more than 1000-fold is a zip bomb, refused before it fills memory
            if info.compress_type != zipfile.ZIP_STORED and info.file_size > _MAX_RATIO * (
                info.compress_size + 64
            ):
                raise self._fail(f"member {info.filename[:80]!r} inflates more than {_MAX_RATIO}x")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise self._fail("two members share a name")
        self.names = set(names)
        for required in (META, CHECKSUM):
            if required not in self.names:
                raise self._fail(f"no {required} member (was it written by qed.save?)")
        # one pass reads every member once: zip CRC and SHA-256 checked together; the bytes
        # are kept until their array is decoded, so that loading does not read twice
        self._bytes: dict[str, bytes] = {}

        def chunks(name: str) -> Iterable[bytes]:
            self._bytes[name] = data = self._zip.read(name)
            yield data

        try:
            stored = self._zip.read(CHECKSUM)
            actual = digest((n, chunks(n)) for n in sorted(self.names - {CHECKSUM}))
        except _ZIP_ERRORS as exc:
            raise self._fail("a member cannot be read", exc) from exc
        if stored != actual.encode("ascii"):
            raise self._fail("its SHA-256 checksum does not match its contents")
        try:
            return json.loads(self._bytes.pop(META).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise self._fail("meta.json is not valid JSON", exc) from exc

    def array(self, name: Any) -> np.ndarray:
        """The array in member ``name``, read without pickle and without trusting its header."""
        if not isinstance(name, str) or name not in self._bytes:
            used = isinstance(name, str) and name in self.names - {META, CHECKSUM}
            raise self._fail(f"array {str(name)[:80]!r} is {'used twice' if used else 'missing'}")
        return _parse_npy(self._bytes.pop(name), f"{self.path!r}, array {name!r}")


def _parse_npy(data: bytes, where: str) -> np.ndarray:
    """A ``.npy`` payload as an array, refusing object/record dtypes and lying shapes before
    allocating anything."""
    fp = io.BytesIO(data)
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(fp)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy's header parser on hostile bytes (incl. TokenError)
        raise ValueError(f"{where}: not a valid .npy array ({exc}).") from exc
    if dtype.hasobject or dtype.kind not in _NPY_KINDS or dtype.itemsize == 0:
        raise ValueError(
            f"{where}: not a plain numeric array (dtype {dtype}); refusing to load it (qed "
            "files never hold pickled, object or record arrays)."
        )
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ValueError(f"{where}: invalid shape {shape!r}.")
    count = math.prod(shape)
    offset = fp.tell()
    if count * dtype.itemsize != len(data) - offset:
        raise ValueError(
            f"{where}: header announces {count} items of {dtype.itemsize} bytes, but the member "
            f"holds {len(data) - offset} bytes of data."
        )
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    array = flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)
    return array.copy(order="K")
