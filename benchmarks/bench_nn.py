"""Training throughput of qed.nn against torch, float32, Adam, random data; one process, same
data, same initial weights.

    python benchmarks/bench_nn.py [--quick] [--threads 1 2] [--only small|gemm|modern]

Models (``Linear → [norm] → act`` per hidden layer, cross entropy):

- ``small``: 784-256-128-10, BatchNorm1d, ReLU, batch 128 — targets: ≥ 2.0× torch at 2
  threads; at 1 thread ≥ 85% of the SGEMM rate measured in the same run at the same shapes;
- ``gemm``: 784-1024-1024-10, ReLU, batch 256 (GEMM-bound) — target ≥ 1.0× torch;
- ``modern``: 784-256-128-10 with Dropout, LayerNorm and GELU — target ≥ 1.2× torch; only
  when ``qed.nn`` has those layers.

Both libraries get the same threads for their matrix products (torch.set_num_threads;
threadpoolctl for numpy's BLAS); qed's element-wise work and the numba optimizer run on one
thread. Each figure is the best epoch of several, interleaved with the peer's so that the
load of this shared machine hits both alike; the load average is printed beside every figure.

The work is counted as 2·(in·out) FLOP per sample and layer for the forward product, as much
for the weight gradient and for the input gradient (not needed for the first layer): about
1.0 MFLOP per sample for ``small``. qed's epoch is split into GEMMs (the same products replayed
alone, at the same shapes: their rate is the SGEMM reference), the optimizer (``step()``
timed in the loop), Python (the same loop on a 4-wide network, where arithmetic is nil) and
the element-wise rest.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _timing import best_time

MODELS = {
    "small": dict(sizes=(784, 256, 128, 10), batch=128, norm="batch", act="relu", target=2.0),
    "gemm": dict(sizes=(784, 1024, 1024, 10), batch=256, norm=None, act="relu", target=1.0),
    "modern": dict(sizes=(784, 256, 128, 10), batch=128, norm="layer", act="gelu", target=1.2),
}
GEMM_FRACTION_TARGET = 0.85


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _data(n: int, d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d), dtype=np.float32), rng.integers(0, k, size=n)


def _has_modern_layers() -> bool:
    from qed import nn

    return all(hasattr(nn, name) for name in ("Dropout", "LayerNorm", "GELU"))


def _qed_net(sizes, norm, act, dropout=0.0):
    from qed import nn

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b, rng=i, dtype=np.float32))
        if i == len(sizes) - 2:
            break
        if norm == "batch":
            layers.append(nn.BatchNorm1d(b, dtype=np.float32))
        elif norm == "layer":
            layers.append(nn.LayerNorm(b, dtype=np.float32))
        layers.append(nn.ReLU() if act == "relu" else nn.GELU())
        if dropout:
            layers.append(nn.Dropout(dropout, rng=100 + i))
    return nn.Sequential(*layers)


def _torch_net(sizes, norm, act, dropout=0.0):
    import torch

    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b))
        if i == len(sizes) - 2:
            break
        if norm == "batch":
            layers.append(torch.nn.BatchNorm1d(b))
        elif norm == "layer":
            layers.append(torch.nn.LayerNorm(b))
        layers.append(torch.nn.ReLU() if act == "relu" else torch.nn.GELU())
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
    return torch.nn.Sequential(*layers)


def qed_epoch_fn(X, y, batch, net, timed_optimizer: list | None = None):
    """One epoch over fixed batches (no shuffling: identical work each time). With
    ``timed_optimizer`` (a one-element list) the seconds spent in ``step()`` add up there."""
    from qed.autograd import Tensor
    from qed.nn.functional import cross_entropy
    from qed.optim import Adam

    opt = Adam(net.parameters(), lr=1e-3)
    batches = [(X[i : i + batch], y[i : i + batch]) for i in range(0, len(X), batch)]

    def epoch() -> float:
        loss = None
        for xb, yb in batches:
            opt.zero_grad()
            loss = cross_entropy(net(Tensor(xb)), yb)
            loss.backward()
            if timed_optimizer is None:
                opt.step()
            else:
                t0 = time.perf_counter()
                opt.step()
                timed_optimizer[0] += time.perf_counter() - t0
        return float(loss.data)

    return epoch


def torch_epoch_fn(X, y, batch, net, qed_net=None):
    import torch

    if qed_net is not None:  # start from the same weights
        net.load_state_dict(
            {k: torch.from_numpy(v) for k, v in qed_net.state_dict().items()}, strict=False
        )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    batches = [(Xt[i : i + batch], yt[i : i + batch]) for i in range(0, len(X), batch)]

    def epoch() -> float:
        loss = None
        for xb, yb in batches:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            opt.step()
        return float(loss.item())

    return epoch


def flops_per_sample(sizes) -> int:
    """Forward product, weight gradient, and input gradient except for the first layer."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    return 2 * sum(a * b for a, b in pairs) * 2 + 2 * sum(a * b for a, b in pairs[1:])


def gemm_replay_fn(n, batch, sizes):
    """The epoch's matrix products alone, at the network's shapes, float32."""
    rng = np.random.default_rng(1)
    ops = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        A = rng.standard_normal((batch, a), dtype=np.float32)
        W = rng.standard_normal((b, a), dtype=np.float32)
        G = rng.standard_normal((batch, b), dtype=np.float32)
        ops.append((A, W.T))  # forward: (batch, a) @ (a, b)
        ops.append((G.T, A))  # weight gradient: (b, batch) @ (batch, a)
        if i > 0:
            ops.append((G, W))  # input gradient: (batch, b) @ (b, a)
    steps = -(-n // batch)

    def replay() -> None:
        for _ in range(steps):
            for L, R in ops:
                L @ R

    return replay


def _measure(name: str, quick: bool, threads: int) -> dict:
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    cfg = MODELS[name]
    sizes, batch = cfg["sizes"], cfg["batch"]
    dropout = 0.1 if name == "modern" else 0.0
    n = batch * (10 if quick else 40)
    repeats = 3 if quick else 7
    X, y = _data(n, sizes[0], sizes[-1])
    torch.set_num_threads(threads)
    numba.set_num_threads(1)
    with threadpool_limits(limits=threads):
        qnet = _qed_net(sizes, cfg["norm"], cfg["act"], dropout)
        opt_time = [0.0]
        qed_epoch = qed_epoch_fn(X, y, batch, qnet, opt_time)
        torch_epoch = torch_epoch_fn(
            X, y, batch, _torch_net(sizes, cfg["norm"], cfg["act"], dropout), qnet
        )
        gemm = gemm_replay_fn(n, batch, sizes)
        tiny_sizes = (4,) * (len(sizes) - 1) + (sizes[-1],)
        Xt, yt = _data(n // batch * 4, 4, sizes[-1])
        tiny = qed_epoch_fn(Xt, yt, 4, _qed_net(tiny_sizes, cfg["norm"], cfg["act"], dropout))
        for f in (qed_epoch, torch_epoch, gemm, tiny):
            f()  # warm up: numba compilation, caches, allocator
        qed_s = torch_s = gemm_s = tiny_s = opt_s = float("inf")
        for _ in range(repeats):  # interleave, so that load changes hit both alike
            opt_time[0] = 0.0
            t = best_time(qed_epoch, 1)
            if t < qed_s:
                qed_s, opt_s = t, opt_time[0]
            torch_s = min(torch_s, best_time(torch_epoch, 1))
            gemm_s = min(gemm_s, best_time(gemm, 1))
            tiny_s = min(tiny_s, best_time(tiny, 1))
    work = flops_per_sample(sizes) * n
    python_s = tiny_s
    elementwise_s = max(qed_s - gemm_s - opt_s - python_s, 0.0)
    return {
        "name": f"MLP {'-'.join(map(str, sizes))} {cfg['norm'] or 'no'}-norm {cfg['act']}"
        f"{' dropout' if dropout else ''} Adam float32 batch {batch} ({threads} thread"
        f"{'s' if threads > 1 else ''})",
        "qed_s": qed_s,
        "peer_s": torch_s,
        "ratio": torch_s / qed_s,
        "target": cfg["target"],
        "threads": threads,
        "load": _load(),
        "gflops_qed": work / qed_s / 1e9,
        "gflops_torch": work / torch_s / 1e9,
        "gflops_sgemm": work / gemm_s / 1e9,
        "split": {
            "GEMMs": gemm_s,
            "element-wise": elementwise_s,
            "optimizer": opt_s,
            "Python": python_s,
        },
    }


def run(quick: bool = False, threads: list[int] | None = None, only: list[str] | None = None):
    """Rows {name, qed_s, peer_s, ratio, target, ...}: seconds per epoch, ratio = torch/qed."""
    threads = threads or [2, 1]
    names = only or ["small", "gemm", "modern"]
    rows = []
    for name in names:
        if name == "modern" and not _has_modern_layers():
            continue
        for t in threads:
            rows.append(_measure(name, quick, t))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS))
    args = parser.parse_args()
    if (args.only is None or "modern" in args.only) and not _has_modern_layers():
        print("modern: qed.nn has no Dropout/LayerNorm/GELU yet; skipped")
    for row in run(args.quick, args.threads, args.only):
        print(f"{row['name']}   [{row['load']}]")
        print(f"  qed   {row['qed_s'] * 1e3:8.1f} ms/epoch  {row['gflops_qed']:6.1f} GFLOP/s")
        print(f"  torch {row['peer_s'] * 1e3:8.1f} ms/epoch  {row['gflops_torch']:6.1f} GFLOP/s")
        verdict = "meets" if row["ratio"] >= row["target"] else "BELOW"
        print(f"  ratio torch/qed = {row['ratio']:.2f}x ({verdict} target {row['target']}x)")
        frac = row["gflops_qed"] / row["gflops_sgemm"]
        line = f"  SGEMM at these shapes {row['gflops_sgemm']:6.1f} GFLOP/s; qed reaches {frac:.0%}"
        if row["threads"] == 1:
            ok = "meets" if frac >= GEMM_FRACTION_TARGET else "BELOW"
            line += f" ({ok} target {GEMM_FRACTION_TARGET:.0%})"
        print(line)
        total = row["qed_s"]
        parts = ", ".join(
            f"{k} {v * 1e3:.1f} ms ({v / total:.0%})" for k, v in row["split"].items()
        )
        print(f"  qed split: {parts}")


if __name__ == "__main__":
    main()
