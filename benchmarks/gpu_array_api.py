"""The Array API path on a CUDA device: qed's results on torch CUDA tensors equal the numpy
path, come back as CUDA tensors, and the timing of a large Ridge fit on the GPU beside the
CPU numpy fit. Run on a machine with a GPU: ``python benchmarks/gpu_array_api.py``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from qed import info, kernels
from qed.linear import KernelRidge, LinearRegression, Ridge


def _close(name: str, got, expected, rtol: float) -> bool:
    ok_type = isinstance(got, torch.Tensor) and got.device.type == "cuda"
    got_np = got.detach().cpu().numpy() if isinstance(got, torch.Tensor) else np.asarray(got)
    err = (
        float(np.max(np.abs(got_np - expected) / (np.abs(expected) + 1e-300)))
        if np.size(expected)
        else 0.0
    )
    ok = ok_type and err <= rtol
    print(f"{'ok ' if ok else 'BAD'} {name:<42} cuda tensor={ok_type}  max rel err={err:.2e}")
    return ok


def parity() -> bool:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    y = X @ rng.standard_normal(8) + 0.1 * rng.standard_normal(300)
    P = rng.random((5, 7))
    P /= P.sum(axis=1, keepdims=True)
    Q = rng.random((5, 7))
    Q /= Q.sum(axis=1, keepdims=True)
    cuda = {"device": "cuda", "dtype": torch.float64}
    Xt, yt = torch.tensor(X, **cuda), torch.tensor(y, **cuda)
    Pt, Qt = torch.tensor(P, **cuda), torch.tensor(Q, **cuda)
    results = []
    for est in (
        LinearRegression(),
        Ridge(alpha=1.0),
        Ridge(alpha=1.0, solver="dual"),
        KernelRidge(alpha=0.5, kernel="rbf", gamma=0.1),
        KernelRidge(alpha=0.5, kernel="poly", degree=2),
    ):
        ref = type(est)(**est.get_params()).fit(X, y).predict(X)
        got = est.fit(Xt, yt).predict(Xt)
        results.append(_close(f"{est!r}.predict", got, ref, 1e-9))
    results.append(
        _close(
            "rbf_kernel", kernels.rbf_kernel(Xt, gamma=0.2), kernels.rbf_kernel(X, gamma=0.2), 1e-10
        )
    )
    results.append(
        _close("entropy(axis=1)", info.entropy(Pt, axis=1), info.entropy(P, axis=1), 1e-10)
    )
    results.append(
        _close(
            "kl_divergence(axis=1)",
            info.kl_divergence(Pt, Qt, axis=1),
            info.kl_divergence(P, Q, axis=1),
            1e-10,
        )
    )
    return all(results)


def timing(n: int = 1_000_000, d: int = 200) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d)
    Xt = torch.tensor(X, device="cuda")
    yt = torch.tensor(y, device="cuda")
    Ridge().fit(Xt[:1000], yt[:1000])
    torch.cuda.synchronize()
    best_gpu = best_cpu = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        Ridge(alpha=1.0).fit(Xt, yt)
        torch.cuda.synchronize()
        best_gpu = min(best_gpu, time.perf_counter() - t0)
        t0 = time.perf_counter()
        Ridge(alpha=1.0).fit(X, y)
        best_cpu = min(best_cpu, time.perf_counter() - t0)
    print(
        f"Ridge fit {n:,} x {d} float64: CUDA (torch) {best_gpu * 1e3:.1f} ms, "
        f"CPU (numpy) {best_cpu * 1e3:.1f} ms, ratio {best_cpu / best_gpu:.1f}x"
    )


if __name__ == "__main__":
    print(torch.__version__, torch.cuda.get_device_name(0))
    ok = parity()
    timing()
    raise SystemExit(0 if ok else 1)
