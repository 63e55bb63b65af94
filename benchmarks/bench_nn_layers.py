"""Forward + backward of issue 15's layers, and a network Hessian-vector product, against
torch: same process, same data, same weights, float32 (layers) and float64 (HVP).

    python benchmarks/bench_nn_layers.py [--quick] [--threads N]

Each case times one forward and one backward (qed's tape vs torch's autograd) of a layer on a
(256, 512) batch, and the HVP of a 64-128-128-10 tanh MLP's cross entropy on 256 samples
(qed.autograd.hvp vs torch.autograd.functional.hvp). Best of several runs; the ratio is
torch time / qed time (> 1: qed faster).
"""

from __future__ import annotations

import argparse

import numpy as np

from _timing import best_time


def _cases():
    import torch

    from qed import nn

    return [
        ("LayerNorm(512)", nn.LayerNorm(512, dtype=np.float32), torch.nn.LayerNorm(512)),
        ("GELU()", nn.GELU(), torch.nn.GELU()),
        ("GELU('tanh')", nn.GELU("tanh"), torch.nn.GELU("tanh")),
        ("LeakyReLU()", nn.LeakyReLU(), torch.nn.LeakyReLU()),
        ("ELU()", nn.ELU(), torch.nn.ELU()),
        ("Softplus()", nn.Softplus(), torch.nn.Softplus()),
        ("Dropout(0.1)", nn.Dropout(0.1, rng=0), torch.nn.Dropout(0.1)),
        ("LogSoftmax(1)", nn.LogSoftmax(1), torch.nn.LogSoftmax(1)),
    ]


def bench_layers(repeats: int, inner: int) -> None:
    import torch

    from qed.autograd import Tensor

    x = np.random.default_rng(0).standard_normal((256, 512)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((256, 512)).astype(np.float32)
    wt = torch.tensor(w)
    print(f"{'layer':<16}{'qed (ms)':>10}{'torch (ms)':>12}{'ratio':>8}")
    for name, q, t in _cases():

        def run_qed(q=q):
            for _ in range(inner):
                xq = Tensor(x, requires_grad=True)
                (q(xq) * w).sum().backward()

        def run_torch(t=t):
            for _ in range(inner):
                xt = torch.tensor(x, requires_grad=True)
                (t(xt) * wt).sum().backward()

        tq = best_time(run_qed, repeats) / inner
        tt = best_time(run_torch, repeats) / inner
        print(f"{name:<16}{tq * 1e3:>10.3f}{tt * 1e3:>12.3f}{tt / tq:>8.2f}")


def bench_hvp(repeats: int) -> None:
    import torch

    from qed.autograd import hvp
    from qed.nn import functional as F

    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((256, 64)), rng.integers(0, 10, 256)
    shapes = [(128, 64), (128,), (128, 128), (128,), (10, 128), (10,)]
    params = [rng.standard_normal(s) * 0.1 for s in shapes]
    vs = [rng.standard_normal(s) for s in shapes]

    def f(W1, b1, W2, b2, W3, b3):
        h = F.linear(X, W1, b1).tanh()
        h = F.linear(h, W2, b2).tanh()
        return F.cross_entropy(F.linear(h, W3, b3), y)

    Xt, yt = torch.tensor(X), torch.tensor(y)

    def ft(W1, b1, W2, b2, W3, b3):
        h = torch.tanh(torch.nn.functional.linear(Xt, W1, b1))
        h = torch.tanh(torch.nn.functional.linear(h, W2, b2))
        return torch.nn.functional.cross_entropy(torch.nn.functional.linear(h, W3, b3), yt)

    pt = tuple(torch.tensor(p) for p in params)
    vt = tuple(torch.tensor(v) for v in vs)
    tq = best_time(lambda: hvp(f, tuple(params), tuple(vs)), repeats)
    tt = best_time(lambda: torch.autograd.functional.hvp(ft, pt, vt), repeats)
    print(f"{'HVP (MLP)':<16}{tq * 1e3:>10.3f}{tt * 1e3:>12.3f}{tt / tq:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    repeats, inner = (3, 5) if args.quick else (7, 20)
    with threadpool_limits(args.threads):
        bench_layers(repeats, inner)
        bench_hvp(repeats)


if __name__ == "__main__":
    main()
