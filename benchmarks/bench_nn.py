"""Training throughput of qed.nn against torch: float32 MLP 784-256-128-10 with BatchNorm1d
and ReLU, Adam, batch 128, random data; same process, same data, same initial weights.

    python benchmarks/bench_nn.py [--quick] [--threads N]

Both libraries use the same number of threads for their matrix products
(torch.set_num_threads; threadpoolctl for numpy's BLAS; default 1, the fair setting on a
shared machine); qed's element-wise work (numpy, and qed.optim's numba kernels, pinned with
numba.set_num_threads(1)) runs on one thread, while torch uses its intra-op threads for it. Each
library trains several epochs; the best (minimum) epoch time is reported, as samples/s.
Target: qed ≥ 1.0× torch's throughput.
"""

from __future__ import annotations

import argparse

import numpy as np

from _timing import best_time

SIZES = (784, 256, 128, 10)
BATCH = 128
TARGET = 1.0


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def _qed_net():
    from qed import nn

    return nn.Sequential(
        nn.Linear(784, 256, rng=0, dtype=np.float32),
        nn.BatchNorm1d(256, dtype=np.float32),
        nn.ReLU(),
        nn.Linear(256, 128, rng=1, dtype=np.float32),
        nn.BatchNorm1d(128, dtype=np.float32),
        nn.ReLU(),
        nn.Linear(128, 10, rng=2, dtype=np.float32),
    )


def _torch_net():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.BatchNorm1d(256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.BatchNorm1d(128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )


def qed_epoch_fn(X: np.ndarray, y: np.ndarray):
    """One epoch of qed training over fixed batches (no shuffling: identical work each time)."""
    from qed.autograd import Tensor
    from qed.nn.functional import cross_entropy
    from qed.optim import Adam

    net = _qed_net()
    opt = Adam(net.parameters(), lr=1e-3)
    batches = [(X[i : i + BATCH], y[i : i + BATCH]) for i in range(0, len(X), BATCH)]

    def epoch() -> float:
        loss = None
        for xb, yb in batches:
            opt.zero_grad()
            loss = cross_entropy(net(Tensor(xb)), yb)
            loss.backward()
            opt.step()
        return float(loss.data)

    return epoch, net


def torch_epoch_fn(X: np.ndarray, y: np.ndarray, qed_net=None):
    import torch

    net = _torch_net()
    if qed_net is not None:  # start from the same weights
        net.load_state_dict({k: torch.from_numpy(v) for k, v in qed_net.state_dict().items()})
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    batches = [(Xt[i : i + BATCH], yt[i : i + BATCH]) for i in range(0, len(X), BATCH)]

    def epoch() -> float:
        loss = None
        for xb, yb in batches:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            opt.step()
        return float(loss.item())

    return epoch


def run(quick: bool = False, threads: int = 1) -> list[dict]:
    """Rows {name, qed_s, peer_s, ratio, target}: seconds per epoch and the throughput ratio."""
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    n = BATCH * (20 if quick else 80)
    repeats = 3 if quick else 7
    X, y = _data(n)
    torch.set_num_threads(threads)
    # qed.optim's fused Adam runs its element-wise loop on one thread: a numba thread pool
    # next to OpenBLAS's spinning threads on the same cores slows both down (measured).
    numba.set_num_threads(1)
    with threadpool_limits(limits=threads):
        qed_epoch, qed_net = qed_epoch_fn(X, y)
        torch_epoch = torch_epoch_fn(X, y, qed_net)
        qed_epoch()  # warm up (numba compilation of the fused optimizer, caches)
        torch_epoch()
        qed_s = torch_s = float("inf")
        for _ in range(repeats):  # interleave, so that load changes hit both alike
            qed_s = min(qed_s, best_time(qed_epoch, 1))
            torch_s = min(torch_s, best_time(torch_epoch, 1))
    return [
        {
            "name": f"MLP 784-256-128-10 BN+ReLU Adam float32 batch {BATCH} "
            f"({n} samples/epoch, {threads} thread{'s' if threads > 1 else ''})",
            "qed_s": qed_s,
            "peer_s": torch_s,
            "ratio": torch_s / qed_s,  # throughput ratio qed/torch = time ratio torch/qed
            "target": TARGET,
            "qed_samples_per_s": n / qed_s,
            "peer_samples_per_s": n / torch_s,
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for row in run(args.quick, args.threads):
        print(row["name"])
        print(
            f"  qed   {row['qed_s'] * 1e3:8.1f} ms/epoch  {row['qed_samples_per_s']:10.0f} samples/s"
        )
        print(
            f"  torch {row['peer_s'] * 1e3:8.1f} ms/epoch  {row['peer_samples_per_s']:10.0f} samples/s"
        )
        verdict = "meets" if row["ratio"] >= row["target"] else "BELOW"
        print(
            f"  throughput ratio qed/torch = {row['ratio']:.2f}x ({verdict} target "
            f"{row['target']}x)"
        )


if __name__ == "__main__":
    main()
