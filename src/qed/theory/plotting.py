"""Figures of the theory lab (matplotlib, imported lazily; no pyplot state is touched).

Each ``plot_*`` takes the dict (or array) the matching experiment returns and gives back a
``matplotlib.figure.Figure``, built without pyplot so that it works headless (no backend
needed) and nothing leaks into a global figure registry.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "new_figure",
    "plot_descent_lemma",
    "plot_convergence",
    "plot_init_variance",
    "plot_overfitting",
    "plot_race",
]


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.0, height: float = 3.6):
    """A pyplot-free Figure and its axes (``squeeze`` as in ``plt.subplots``)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols)
    return fig, axes


def plot_descent_lemma(results: dict[str, dict[str, Any]] | dict[str, Any]) -> Any:
    """f(x_t) and the descent-lemma bound along GD runs; ``results`` label -> check result."""
    if "f" in results:
        results = {f"η = {results['lr']:.3g}": results}
    fig, (ax, ax2) = new_figure(1, 2, width=9.0)
    for label, r in results.items():
        t = np.arange(r["f"].size)
        (line,) = ax.semilogy(t, r["f"], label=label)
        ax.semilogy(t[1:], np.maximum(r["bound"], 1e-300), ls=":", color=line.get_color())
        ax2.plot(
            np.arange(r["slack"].size),
            r["slack"] / np.maximum(np.abs(r["f"][:-1]), 1e-300),
            color=line.get_color(),
            label=label,
        )
    ax.set(
        xlabel="step t",
        ylabel="f(x_t)  (dotted: f(x_t) − (η − βη²/2)‖∇f‖²)",
        title="gradient descent and the descent lemma",
    )
    ax.legend(fontsize="small")
    ax2.axhline(0.0, color="k", lw=0.8)
    ax2.set(xlabel="step t", ylabel="slack / f(x_t)", title="bound − f(x_{t+1}) ≥ 0")
    return fig


def plot_convergence(sgd: dict[str, Any], gd: dict[str, Any] | None = None) -> Any:
    """log-log min_t E‖∇f(x_t)‖² against T for SGD (η = 1/√T), with the slope −½ guide."""
    fig, ax = new_figure()
    T = np.asarray(sgd["T"], dtype=float)
    ax.loglog(T, sgd["grad_sq"], "o-", label=f"SGD, η = c/√T: slope {sgd['slope']:.2f}")
    ax.loglog(
        T, sgd["avg_grad_sq"], "s--", ms=4, label=f"SGD, mean over t: slope {sgd['slope_avg']:.2f}"
    )
    ax.loglog(T, sgd["bound"], ":", color="gray", label="notes' bound (f₀−f*)/(ηT) + βηG/2")
    ax.loglog(T, sgd["grad_sq"][0] * (T / T[0]) ** -0.5, color="k", lw=0.8, label="T^(−1/2)")
    if gd is not None:
        Tg = np.asarray(gd["T"], dtype=float)
        ax.loglog(Tg, gd["grad_sq"], "^-", label="GD, η = 1/β")
        ax.loglog(Tg, gd["bound"], ":", color="C3", label="GD bound 2β(f₀−f*)/T")
    ax.set(xlabel="T (steps)", ylabel="min_t E‖∇f(x_t)‖²", title="GD vs SGD convergence rate")
    ax.legend(fontsize="x-small")
    return fig


def plot_init_variance(
    curves: dict[str, np.ndarray], predicted: dict[str, np.ndarray] | None = None
):
    """E[h²] against layer (log scale) for each ``label -> init_variance(...)`` array."""
    fig, ax = new_figure()
    for label, v in curves.items():
        (line,) = ax.semilogy(np.arange(len(v)), v, "o-", ms=3, label=label)
        if predicted and label in predicted:
            ax.semilogy(np.arange(len(v)), predicted[label], ":", color=line.get_color())
    ax.set(
        xlabel="layer l",
        ylabel="E[h²]",
        title="second moment through depth (dotted: ½·D_in·σ²·S per ReLU layer)",
    )
    ax.legend(fontsize="small")
    return fig


def plot_overfitting(r: dict[str, Any], show_degrees: tuple[int, ...] = (1, 3, 12)) -> Any:
    """Train/test MSE against degree (with ridge) and a few of the fitted polynomials.

    Reads only ``r`` (``overfitting_curve``'s result, which carries the fitted curves on its
    ``grid``): plotting never imports the experiments, so the two cannot import in a cycle.
    """
    fig, (ax, ax2) = new_figure(1, 2, width=9.5)
    d = r["degrees"]
    ax.semilogy(d, r["train_mse"], "o-", label="train (least squares)")
    ax.semilogy(d, r["test_mse"], "o-", label="test (least squares)")
    ax.semilogy(d, r["ridge_train_mse"], "s--", ms=4, label=f"train (ridge λ={r['alpha']:g})")
    ax.semilogy(d, r["ridge_test_mse"], "s--", ms=4, label=f"test (ridge λ={r['alpha']:g})")
    ax.axhline(r["noise"] ** 2, color="gray", ls=":", label="noise variance")
    ax.set(xlabel="degree m", ylabel="mean squared error", title="the overfitting curve")
    ax.legend(fontsize="x-small")
    grid = r["grid"]
    ax2.scatter(r["x_train"], r["y_train"], color="k", s=14, zorder=3, label="training data")
    ax2.plot(grid, np.sin(np.pi * grid), color="gray", ls=":", label="sin(πx)")
    degrees = list(d)
    for m in show_degrees:
        if m in degrees:
            ax2.plot(grid, r["fitted"][degrees.index(m)], label=f"degree {m}")
    ax2.set_ylim(-2.0, 2.0)
    ax2.set(xlabel="x", ylabel="y", title="y ≈ [1 x … x^m] β")
    ax2.legend(fontsize="x-small")
    return fig


def plot_race(race: dict[str, Any]) -> Any:
    """Contours with each optimizer's path (top) and f(x_t) − f* (bottom), per problem."""
    names = [k for k in race if k != "figure"]
    fig, axes = new_figure(2, len(names), width=5.2 * len(names), height=8.0)
    axes = np.asarray(axes).reshape(2, len(names))
    for j, name in enumerate(names):
        r = race[name]
        x0, x1, y0, y1 = r["bounds"]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        fz = np.array([r["f"](np.array(p)) for p in zip(gx.ravel(), gy.ravel(), strict=True)])
        fz = fz.reshape(gx.shape)
        ax = axes[0, j]
        ax.contour(gx, gy, np.log10(fz - fz.min() + 1e-3), levels=20, cmap="Greys", linewidths=0.6)
        for label, path in r["paths"].items():
            ok = np.all(np.isfinite(path), axis=1)
            ax.plot(path[ok, 0], path[ok, 1], lw=1.0, label=label)
        ax.plot(*r["x_star"], "k*", ms=10)
        ax.set(xlim=(x0, x1), ylim=(y0, y1), title=r["title"])
        ax2 = axes[1, j]
        for label, gap in r["gap"].items():
            ax2.semilogy(np.maximum(gap, 1e-30), lw=1.0, label=label)
        ax2.set(xlabel="step t", ylabel="f(x_t) − f*")
        finite = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in r["gap"].values()])
        if finite.size:  # show the range the curves span, floored where rounding takes over
            ax2.set_ylim(max(1e-30, 0.3 * finite.min()), 3 * finite.max())
    axes[0, 0].legend(fontsize="x-small")
    return fig
