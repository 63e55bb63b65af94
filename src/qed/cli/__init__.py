"""The ``qed`` command line: the tour, fitting and certifying models on CSV files, benchmarks.

    qed tour [--out DIR]                                   every chapter of the notes → HTML
    qed fit MODEL DATA.csv --target COL [--set k=v] --out FILE.qed
    qed predict FILE.qed DATA.csv [--out PRED.csv]
    qed certify FILE.qed DATA.csv --target COL            exit 0 iff the certificate holds
    qed certify FILE.qed DATA.csv --json                  the certificate as JSON
    qed certify FILE.qed DATA.csv --against sklearn|torch qed beside its peer on this data
    qed bench [--quick]                                    qed vs its peers, ratio table
    qed chapters | qed --version

``certify`` prints the optimality conditions and the error bounds; ``--json`` prints
``Certificate.to_dict()`` with non-finite numbers as the strings "inf", "-inf", "nan" (valid
JSON). ``--against sklearn`` (linear, ridge, kernel-ridge, logistic, svc; ``qed.cli.peer_sklearn``)
fits scikit-learn's estimator on the same data with the model's hyperparameters and shows both
objectives, qed's certificate of scikit-learn's solution and the differences; ``--against
torch`` (mlp; ``qed.cli.peer_torch``) compares loss and gradient norm of the same network in
PyTorch. The exit status is that of qed's own certificate.

Every failure the user can cause (a missing file, an unknown column, model or parameter,
non-numeric data) prints one line ``error: …`` naming the problem, and exits with status 1.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")  # the CLI only ever writes figures to files

import typer  # noqa: E402

from qed.cli import models, reports  # noqa: E402, F401  (they register the commands)
from qed.cli._app import CLIError, app  # noqa: E402
from qed.cli.data import MODELS  # noqa: E402

__all__ = ["app", "main", "MODELS", "CLIError"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``qed`` console script.

    Runs the typer app outside click's standalone mode so that a usage mistake (an unknown
    option, a missing argument) is also one ``error:`` line rather than a framed panel.
    """
    try:  # recent typer vendors its own click; older ones use click itself
        from typer._click import exceptions as cx
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import exceptions as cx

    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="qed", standalone_mode=False)
    except cx.NoArgsIsHelpError as exc:  # plain `qed`: the help
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except cx.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        typer.echo("error: " + " ".join(exc.format_message().split()) + hint, err=True)
        sys.exit(2)
    except (getattr(cx, "Abort", KeyboardInterrupt), KeyboardInterrupt):
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
