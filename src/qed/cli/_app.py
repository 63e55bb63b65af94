"""The typer app, its console and the error contract shared by every command."""

from __future__ import annotations

import functools
from typing import Annotated, Any

import typer
from rich.console import Console

import qed

__all__ = ["app", "console", "CLIError", "guard"]

app = typer.Typer(
    name="qed",
    help="qed: the machine-learning fundamentals of the lecture notes — exact, fast, certified.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)


class CLIError(Exception):
    """A problem the user can fix; shown as one line, no traceback."""


def _fail(message: str) -> None:
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    raise typer.Exit(1)


def guard(func):
    """Run a command, turning the user's errors into one clear line and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CLIError as exc:
            _fail(str(exc))
        except FileNotFoundError as exc:
            _fail(f"no such file: {exc.filename or exc}")
        except (ValueError, TypeError, KeyError, OSError) as exc:
            _fail(f"{exc}" if not isinstance(exc, KeyError) else f"missing key {exc}")
        except KeyboardInterrupt:
            _fail("interrupted")

    return wrapper


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"qed {qed.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """qed: the machine-learning fundamentals of the lecture notes — exact, fast, certified."""
