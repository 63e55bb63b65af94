"""Benchmark: one optimizer step of qed.optim against torch.optim, on CPU, in one process.

The headline: one Adam step on a single 10,000,000-element float32 parameter, target ≥ 2×
faster than ``torch.optim.Adam`` with its default settings (on CPU torch takes its
single-tensor path: foreach and fused are off by default for CPU tensors; the path is printed).
qed's step is one fused numba pass reading x, g, m, v and writing x, m, v: 28 bytes per
element, whose effective bandwidth is printed against this machine's copy bandwidth
(``np.copyto`` of a large array, and a parallel numba copy: 2 × its bytes per copy), measured
in the same loop as the steps so that all see the same background load.

    python benchmarks/bench_optim.py [--quick]

``run(quick)`` returns rows {name, qed_s, peer_s, ratio, target} with ratio = peer_s / qed_s
(the speed-up of qed; ≥ target is a pass).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from numba import njit, prange

import qed.optim as qo
from _timing import best_time

N_BIG = 10_000_000


class _P:
    """A parameter holder (.data, .grad), as qed.autograd.Tensor is."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad: np.ndarray | None = None


@njit(parallel=True, cache=True)
def _parallel_copy(dst, src):
    for i in prange(src.size):
        dst[i] = src[i]


def torch_adam_path(opt: torch.optim.Optimizer) -> str:
    """Which implementation torch.optim.Adam used: 'fused', 'foreach' or 'single-tensor'."""
    from torch.optim.optimizer import _default_to_fused_or_foreach

    group = opt.param_groups[0]
    if group.get("fused"):
        return "fused"
    if group.get("foreach") is None:
        _, foreach = _default_to_fused_or_foreach(group["params"], False, False)
    else:
        foreach = group["foreach"]
    return "foreach" if foreach else "single-tensor"


def _block(step, k: int):
    def run():
        for _ in range(k):
            step()

    return run


def _pair(n: int, make_qed, make_torch, repeats: int, n_params: int = 1, also=(), block=1):
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal(n, dtype=np.float32) for _ in range(n_params)]
    gs = [rng.standard_normal(n, dtype=np.float32) for _ in range(n_params)]
    qps = [_P(x.copy()) for x in xs]
    for p, g in zip(qps, gs, strict=True):
        p.grad = g
    tps = [torch.tensor(x, requires_grad=True) for x in xs]
    for p, g in zip(tps, gs, strict=True):
        p.grad = torch.from_numpy(g)
    qopt, topt = make_qed(qps), make_torch(tps)
    for _ in range(2):  # warm up: numba compile/cache load, state allocation
        qopt.step()
        topt.step()
    # alternate the two so that both see the same background load; keep each one's best
    q = t = float("inf")
    others = [float("inf")] * len(also)
    for _ in range(repeats):
        q = min(q, best_time(_block(qopt.step, block), 1) / block)
        t = min(t, best_time(_block(topt.step, block), 1) / block)
        others = [min(o, best_time(f, 1)) for o, f in zip(others, also, strict=True)]
    return q, t, topt, others


def run(quick: bool = False) -> list[dict]:
    repeats = 5 if quick else 20
    rows = []
    # the copy bandwidth is measured in the same loop, so that it sees the same load
    src = np.random.default_rng(1).random(N_BIG * 4, dtype=np.float32)  # 160 MB
    dst = np.empty_like(src)
    np.copyto(dst, src)
    _parallel_copy(dst, src)
    copies = (lambda: np.copyto(dst, src), lambda: _parallel_copy(dst, src))
    q, t, topt, (c1, c2) = _pair(
        N_BIG, lambda p: qo.Adam(p), lambda p: torch.optim.Adam(p), repeats, also=copies
    )
    path = torch_adam_path(topt)
    rows.append(
        dict(
            name=f"Adam step, 1e7 float32 (torch default: {path})",
            qed_s=q,
            peer_s=t,
            ratio=t / q,
            target=2.0,
            copy_bw_1thread=2 * src.nbytes / c1,
            copy_bw_parallel=2 * src.nbytes / c2,
        )
    )
    if not quick:
        q2, t2, _, _ = _pair(
            N_BIG, lambda p: qo.Adam(p), lambda p: torch.optim.Adam(p, fused=True), repeats
        )
        rows.append(
            dict(
                name="Adam step, 1e7 float32 (torch fused=True)",
                qed_s=q2,
                peer_s=t2,
                ratio=t2 / q2,
                target=None,
            )
        )
        q3, t3, _, _ = _pair(
            N_BIG,
            lambda p: qo.SGD(p, lr=0.01, momentum=0.9),
            lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
            repeats,
        )
        rows.append(
            dict(
                name="SGD momentum step, 1e7 float32",
                qed_s=q3,
                peer_s=t3,
                ratio=t3 / q3,
                target=None,
            )
        )
        for label, make_q, make_t in (
            ("NAdam step, 1e7 float32", qo.NAdam, torch.optim.NAdam),
            (
                "Adam amsgrad step, 1e7 float32",
                lambda p: qo.Adam(p, amsgrad=True),
                lambda p: torch.optim.Adam(p, amsgrad=True),
            ),
        ):
            qa, ta, _, _ = _pair(N_BIG, make_q, make_t, repeats)
            rows.append(dict(name=label, qed_s=qa, peer_s=ta, ratio=ta / qa, target=None))
        import numba

        nb, nt = numba.get_num_threads(), torch.get_num_threads()
        numba.set_num_threads(1)
        torch.set_num_threads(1)
        try:
            q5, t5, _, _ = _pair(
                N_BIG, lambda p: qo.Adam(p), lambda p: torch.optim.Adam(p), repeats
            )
        finally:
            numba.set_num_threads(nb)
            torch.set_num_threads(nt)
        rows.append(
            dict(
                name="Adam step, 1e7 float32, both on 1 thread",
                qed_s=q5,
                peer_s=t5,
                ratio=t5 / q5,
                target=None,
            )
        )
        q4, t4, _, _ = _pair(
            1000, lambda p: qo.Adam(p), lambda p: torch.optim.Adam(p), repeats, n_params=6, block=50
        )
        rows.append(
            dict(
                name="Adam step, 6 params of 1e3 (per-call overhead)",
                qed_s=q4,
                peer_s=t4,
                ratio=t4 / q4,
                target=None,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, headline only")
    args = parser.parse_args()
    import numba

    rows = run(args.quick)
    print("load average {:.2f} {:.2f} {:.2f} (2 cores, shared)".format(*os.getloadavg()))
    print(
        f"threads: numba {numba.get_num_threads()} ({numba.threading_layer()}), "
        f"torch {torch.get_num_threads()}"
    )
    for r in rows:
        target = (
            ""
            if r["target"] is None
            else f"  (target ≥ {r['target']}×: {'PASS' if r['ratio'] >= r['target'] else 'FAIL'})"
        )
        print(
            f"{r['name']:<55} qed {r['qed_s'] * 1e3:8.2f} ms   torch {r['peer_s'] * 1e3:8.2f} ms"
            f"   speed-up {r['ratio']:5.2f}×{target}"
        )
    head = rows[0]
    moved = 7 * 4 * N_BIG  # Adam reads x, g, m, v and writes x, m, v: 28 bytes per element
    bw1, bw2 = head["copy_bw_1thread"], head["copy_bw_parallel"]
    q, t = head["qed_s"], head["peer_s"]
    print(
        f"copy bandwidth, 160 MB (2 x bytes / time): np.copyto {bw1 / 1e9:6.2f} GB/s, "
        f"numba prange copy (all threads) {bw2 / 1e9:6.2f} GB/s"
    )
    print(
        f"qed Adam effective bandwidth:   {moved / q / 1e9:6.2f} GB/s = {moved / q / bw1:.0%} "
        f"of np.copyto, {moved / q / bw2:.0%} of the parallel copy"
    )
    print(f"torch Adam at 28 B/element:     {moved / t / 1e9:6.2f} GB/s")
    print(
        "(a copy's stores also read the destination line first (write-allocate), which the "
        "2 x bytes count omits;\n Adam's stores go to lines it has just read, so it can "
        "exceed the counted copy bandwidth.)"
    )


if __name__ == "__main__":
    main()
