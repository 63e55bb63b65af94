"""qed.info against scipy.stats.entropy on large probability vectors.

Same arrays, same process; best (minimum) of several repeats, since the machine is shared.
Target: ``entropy`` and ``kl_divergence`` at least 2× faster than ``scipy.stats.entropy`` on
10,000,000 float64 entries, *including* qed's validation (NaN, ±inf, negatives, sum to 1),
which SciPy does not do. Rows for the normalize=True path (SciPy's semantics exactly) and for
a batch of distributions along an axis are reported too.

    python benchmarks/bench_info.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.stats

from _timing import best_time
from qed import info


def _row(name, qed_fn, peer_fn, repeats, target=None):
    got, expected = qed_fn(), peer_fn()  # warm-up (numba loads its cache) and a parity check
    if not np.allclose(got, expected, rtol=1e-10, atol=1e-12):
        raise AssertionError(f"{name}: qed {got} != scipy {expected}")
    qed_s = best_time(qed_fn, repeats)
    peer_s = best_time(peer_fn, repeats)
    return {
        "name": name,
        "qed_s": qed_s,
        "peer_s": peer_s,
        "ratio": peer_s / qed_s,
        "target": target,
    }


def run(quick: bool = False) -> list[dict]:
    """Benchmark rows: name, qed_s, peer_s, ratio (peer/qed, > 1 means qed is faster), target."""
    n = 1_000_000 if quick else 10_000_000
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)
    p = rng.random(n)
    p /= p.sum()
    q = rng.random(n)
    q /= q.sum()
    raw_p = p * 3.0  # unnormalised, for the normalize=True rows
    batch = rng.random((1000, 10_000 if not quick else 1000))
    batch /= batch.sum(axis=1, keepdims=True)
    batch_q = batch[::-1].copy()
    label = f"{n:,}"
    rows = [
        _row(
            f"entropy(p), n={label}",
            lambda: info.entropy(p),
            lambda: scipy.stats.entropy(p),
            repeats,
            target=2.0,
        ),
        _row(
            f"kl_divergence(p, q), n={label}",
            lambda: info.kl_divergence(p, q),
            lambda: scipy.stats.entropy(p, q),
            repeats,
            target=2.0,
        ),
        _row(
            f"cross_entropy(p, q) vs H(p)+KL, n={label}",
            lambda: info.cross_entropy(p, q),
            lambda: scipy.stats.entropy(p) + scipy.stats.entropy(p, q),
            repeats,
        ),
        _row(
            f"entropy(3p, normalize=True), n={label}",
            lambda: info.entropy(raw_p, normalize=True),
            lambda: scipy.stats.entropy(raw_p),
            repeats,
        ),
        _row(
            f"kl_divergence(p, q, axis=1), {batch.shape}",
            lambda: info.kl_divergence(batch, batch_q, axis=1),
            lambda: scipy.stats.entropy(batch, batch_q, axis=1),
            repeats,
        ),
        _row(
            f"entropy(p, axis=0), {batch.T.shape}",
            lambda: info.entropy(batch.T, axis=0),
            lambda: scipy.stats.entropy(batch.T, axis=0),
            repeats,
        ),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M entries, fewer repeats")
    args = parser.parse_args()
    print(f"{'benchmark':<46} {'qed [ms]':>10} {'scipy [ms]':>11} {'ratio':>7}  target")
    for row in run(quick=args.quick):
        target = f"≥ {row['target']:g}×" if row["target"] else ""
        ok = "" if not row["target"] else ("  ok" if row["ratio"] >= row["target"] else "  MISSED")
        print(
            f"{row['name']:<46} {1e3 * row['qed_s']:10.2f} {1e3 * row['peer_s']:11.2f} "
            f"{row['ratio']:6.1f}×  {target}{ok}"
        )


if __name__ == "__main__":
    main()
