"""``qed certify --json`` and ``--against``: certificates as JSON, and qed beside its peer.

JSON encodes every non-finite number as a string, ``"inf"``, ``"-inf"`` or ``"nan"`` (an
unbounded error bound is ``"inf"``), so the output is always valid JSON (RFC 8259 has no
infinities).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from rich.table import Table

from qed.cli._app import CLIError, console
from qed.cli.data import MODELS, certificate, print_certificate

__all__ = ["PEERS", "to_json", "model_name", "check_peer", "compare", "print_comparison"]

PEERS = ("sklearn", "torch")


def _safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _safe(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isfinite(x):
            return x
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if obj is None or isinstance(obj, str):
        return obj
    return repr(obj)


def to_json(obj: Any) -> str:
    """Valid JSON of ``obj``: non-finite floats become "inf", "-inf" or "nan"."""
    return json.dumps(_safe(obj), indent=2, ensure_ascii=False, allow_nan=False)


def model_name(model: Any, bundle: dict) -> str:
    """The CLI's name of a saved model (``qed fit``'s MODEL), from the file or its class."""
    if bundle.get("model_name") in MODELS:
        return bundle["model_name"]
    cls = type(model).__name__
    for name, (module, classifier, regressor) in MODELS.items():
        if cls in (classifier, regressor) and type(model).__module__.startswith(module):
            return name
    return cls


def check_peer(peer: str, name: str, model: Any) -> None:
    """Refuse a peer that does not have this model, naming what would work."""
    from qed.cli.peer_sklearn import SKLEARN_PEERS

    if peer not in PEERS:
        raise CLIError(f"unknown peer {peer!r} for --against; choose one of {', '.join(PEERS)}")
    label = f"{name!r} ({type(model).__name__})"
    if peer == "sklearn" and name not in SKLEARN_PEERS:
        hint = (
            " (a network has no common optimum with scikit-learn's MLP); use --against torch"
            if name == "mlp"
            else ""
        )
        raise CLIError(f"--against sklearn compares {', '.join(SKLEARN_PEERS)}, not {label}{hint}")
    if peer == "torch" and name != "mlp":
        hint = "; use --against sklearn" if name in SKLEARN_PEERS else ""
        raise CLIError(f"--against torch compares the mlp model only, not {label}{hint}")


def _relative(a: float, b: float) -> float:
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def compare(
    peer: str, name: str, model: Any, X: np.ndarray, y: np.ndarray, settings: dict
) -> tuple[dict[str, Any], Any, Any]:
    """qed's and the peer's numbers on (X, y): (one dict, what ``--json`` prints; qed's
    certificate; qed's certificate of the peer's solution, None for torch)."""
    cert, _ = certificate(model, X, y)
    if peer == "torch":
        from qed.cli.peer_torch import NON_CONVEX_NOTE, qed_loss_and_grad, torch_loss_and_grad

        if settings:
            raise CLIError("--peer-set has no effect with --against torch (nothing is fitted)")
        import torch

        q_loss, q_grad, q_out = qed_loss_and_grad(model, X, y)
        t_loss, t_grad, t_out = torch_loss_and_grad(model, X, y)
        result = {
            "model": name,
            "qed": {"loss": q_loss, "grad_norm": q_grad, "certificate": cert.to_dict()},
            "peer": {
                "name": "torch",
                "version": torch.__version__,
                "loss": t_loss,
                "grad_norm": t_grad,
            },
            "difference": {
                "loss": q_loss - t_loss,
                "loss_relative": _relative(q_loss, t_loss),
                "grad_norm": q_grad - t_grad,
                "output_max_abs": float(np.max(np.abs(q_out - t_out), initial=0.0)),
            },
            "note": NON_CONVEX_NOTE,
        }
        return result, cert, None
    import sklearn

    from qed.cli import peer_sklearn as P

    fitted = P.fit_peer(name, model, X, y, settings)
    clone = P.transplant(name, model, fitted, X, y)
    peer_cert, _ = certificate(clone, X, y)
    f_qed, f_peer = P.objective(name, model, X, y), P.objective(name, clone, X, y)
    diff = {"objective": f_qed - f_peer, "objective_relative": _relative(f_qed, f_peer)}
    diff.update(P.differences(name, model, fitted, X))
    result = {
        "model": name,
        "objective": P.OBJECTIVES[name],
        "qed": {"objective": f_qed, "certificate": cert.to_dict()},
        "peer": {
            "name": "sklearn",
            "version": sklearn.__version__,
            "estimator": P.SKLEARN_PEERS[name][0],
            "params": dict(fitted.get_params(deep=False)),
            "objective": f_peer,
            "certificate": peer_cert.to_dict(),
        },
        "difference": diff,
    }
    return result, cert, peer_cert


def _num(x: Any) -> str:
    return f"{x:.6e}" if isinstance(x, float) else str(x)


def print_comparison(result: dict[str, Any], cert: Any, peer_cert: Any | None) -> None:
    """The certificates (qed's, then qed's applied to the peer's solution) and a table."""
    print_certificate(cert)
    peer = result["peer"]
    label = peer.get("estimator", "torch.nn.Sequential").rpartition(".")[2]
    if peer_cert is not None:
        console.print()
        title = f"certificate: {peer_cert.model} carrying scikit-learn {peer['version']}'s solution"
        print_certificate(peer_cert, title=title)
    table = Table(title=f"qed vs {peer['name']} ({label})", title_justify="left")
    for col in ("", "qed", peer["name"], "difference"):
        table.add_column(col, justify="right" if col else "left")
    diff = result["difference"]
    if peer["name"] == "torch":
        table.add_row(
            "loss L(θ)", _num(result["qed"]["loss"]), _num(peer["loss"]), _num(diff["loss"])
        )
        table.add_row(
            "‖∇θL‖₂",
            _num(result["qed"]["grad_norm"]),
            _num(peer["grad_norm"]),
            _num(diff["grad_norm"]),
        )
        table.add_row("outputs", "", "", f"max |Δ| {_num(diff['output_max_abs'])}")
    else:
        table.add_row(
            "objective",
            _num(result["qed"]["objective"]),
            _num(peer["objective"]),
            f"{_num(diff['objective'])} (relative {diff['objective_relative']:.2e})",
        )
        holds = ("holds" if result["qed"]["certificate"]["holds"] else "FAILS",
                 "holds" if peer["certificate"]["holds"] else "FAILS")  # fmt: skip
        table.add_row("qed's certificate", *holds, "")
        for key in result["qed"]["certificate"]["bounds"]:
            mine = result["qed"]["certificate"]["bounds"][key]
            theirs = peer["certificate"]["bounds"].get(key)
            shown = "—" if theirs is None else f"≤ {theirs:.3e}"
            table.add_row(f"bound: {key}", f"≤ {mine:.3e}", shown, "")
        table.add_row(diff["coef"], "", "", f"max |Δ| {_num(diff['coef_max_abs'])}")
        if "intercept_max_abs" in diff:
            table.add_row("intercept_", "", "", f"max |Δ| {_num(diff['intercept_max_abs'])}")
        table.add_row(diff["prediction"], "", "", f"max |Δ| {_num(diff['prediction_max_abs'])}")
        if "labels_differ" in diff:
            table.add_row("predicted labels", "", "", f"{diff['labels_differ']} differ")
    console.print()
    console.print(table)
    if peer["name"] == "torch":
        console.print(f"[yellow]note: {result['note']}[/]")
    else:
        console.print(f"objective: {result['objective']}")
