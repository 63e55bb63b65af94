"""qed on data that outgrows memory: 20,000,000 × 20 float64 (3.2 GB) on a dask LocalCluster.

The data are generated chunk-wise on the 2 workers by ``dask.array.random`` (deterministic
with a seed) and never materialised whole, nor persisted: every pass over the data
regenerates its chunks where they are consumed. Reported per fit: wall time, and the memory
of the *client* process — its peak resident set (``ru_maxrss``) before and after, and the
peak of Python/numpy allocations during the fit (``tracemalloc``) — against the data size.

Peers: ``LinearRegression`` is compared with dask's own tall-and-skinny QR least squares
(``dask.array.linalg.lstsq`` on [X 1]); where ``dask_ml`` is importable (it is not a qed
dependency: install it in a throwaway environment, e.g. ``python -m venv
--system-site-packages /tmp/v && /tmp/v/bin/pip install dask-ml``, and run this script with
that Python), also with ``dask_ml.linear_model.LinearRegression`` and with
``dask_ml.linear_model.LogisticRegression(solver="lbfgs", C=1)`` — the same objective as
qed's (its "newton" solver is unregularised).

    python benchmarks/bench_dask.py [--quick]
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np

from qed.classify import LogisticRegression
from qed.linear import LinearRegression


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _data(n: int, d: int, chunk: int, seed: int = 0):
    import dask.array as da

    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(chunk, d))
    w = np.linspace(-1.0, 1.0, d)
    z = X @ w + 0.5
    y_lin = z + rng.standard_normal(n, chunks=chunk)
    y_log = (z + rng.logistic(size=n, chunks=chunk) > 0).astype(np.int8)
    return X, y_lin, y_log


def _timed(fn, repeats: int = 1):
    """(result, best wall time of ``repeats`` runs, peak client allocations in MiB)."""
    best, peak = np.inf, 0.0
    for _ in range(repeats):
        tracemalloc.start()
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()
    return out, best, peak


def run(quick: bool = False) -> list[dict]:
    from dask.distributed import Client, LocalCluster

    n, d = (2_000_000, 20) if quick else (20_000_000, 20)
    chunk = 125_000 if quick else 500_000
    data_mb = n * d * 8 / 2**20
    rows = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit="6GiB",
        ) as cluster,
        Client(cluster),
    ):
        X, y_lin, y_log = _data(n, d, chunk)
        rss0 = _rss_mb()
        # the one-pass fits are timed best of 2 (3 quick); the iterative ones once
        reps = 3 if quick else 2
        lin, lin_s, lin_peak = _timed(lambda: LinearRegression().fit(X, y_lin), reps)
        rss_lin = _rss_mb()

        def peer():
            import dask.array as da

            Xa = da.concatenate([X, da.ones((n, 1), chunks=(chunk, 1))], axis=1)
            return da.linalg.lstsq(Xa.rechunk({1: -1}), y_lin[:, None])[0].compute()

        coef_peer, peer_s, _ = _timed(peer, reps)
        gap = float(np.max(np.abs(coef_peer[:d, 0] - lin.coef_)))
        rows.append(
            {
                "name": f"LinearRegression.fit dask {n:,}×{d}",
                "qed_s": lin_s,
                "peer_s": peer_s,
                "ratio": peer_s / lin_s,
                "target": 1.0,
                "peer": "dask.array.linalg.lstsq (TSQR)",
                "coef_gap": gap,
                "client_peak_alloc_mb": lin_peak,
                "client_maxrss_mb": rss_lin,
                "client_maxrss_before_mb": rss0,
                "data_mb": data_mb,
            }
        )
        log, log_s, log_peak = _timed(lambda: LogisticRegression(C=1.0).fit(X, y_log))
        warm = " after a start on 1/8 of the blocks" if X.numblocks[0] >= 16 else ""
        row = {
            "name": f"LogisticRegression.fit dask {n:,}×{d} ({int(log.n_iter_[0])} full "
            f"Newton steps{warm})",
            "qed_s": log_s,
            "peer_s": None,
            "ratio": None,
            "target": None,
            "peer": "dask_ml not installed: not compared",
            "client_peak_alloc_mb": log_peak,
            "client_maxrss_mb": _rss_mb(),
            "client_maxrss_before_mb": rss_lin,
            "data_mb": data_mb,
        }
        rows.append(row)
        try:
            import warnings

            from dask_ml import linear_model as dml
        except ImportError:
            return rows
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer_lin, s_lin, _ = _timed(lambda: dml.LinearRegression().fit(X, y_lin))
            peer_log, s_log, _ = _timed(
                lambda: dml.LogisticRegression(solver="lbfgs", C=1.0, tol=1e-8, max_iter=100).fit(
                    X, y_log
                )
            )
        rows.insert(
            1,
            dict(
                rows[0],
                name=rows[0]["name"] + " vs dask_ml",
                peer_s=s_lin,
                ratio=s_lin / lin_s,
                peer="dask_ml LinearRegression",
                coef_gap=float(np.max(np.abs(peer_lin.coef_ - lin.coef_))),
            ),
        )
        row.update(
            peer_s=s_log,
            ratio=s_log / log_s,
            target=1.0,
            peer="dask_ml LogisticRegression(solver='lbfgs')",
            coef_gap=float(np.max(np.abs(np.ravel(peer_log.coef_) - log.coef_.ravel()))),
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000,000 rows instead of 20M")
    args = parser.parse_args()
    for row in run(quick=args.quick):
        peer = (
            f"peer {row['peer_s']:.2f} s, ratio {row['ratio']:.2f}× ({row['peer']}, "
            f"max |Δcoef| {row['coef_gap']:.1e})"
            if row["peer_s"]
            else row["peer"]
        )
        print(f"{row['name']}: qed {row['qed_s']:.2f} s; {peer}")
        print(
            f"    data {row['data_mb']:.0f} MiB; client peak allocations during fit "
            f"{row['client_peak_alloc_mb']:.1f} MiB; client max RSS "
            f"{row['client_maxrss_before_mb']:.0f} → {row['client_maxrss_mb']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
