"""What the operator scripts print: rich tables, and failures as one clear line with a non-zero exit."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any
from unittest import mock

import click
from ape.api.trace import TraceAPI
from ape_ethereum.trace import Trace
from rich.console import Console
from rich.table import Table


def _width() -> int | None:
    """A terminal's own width; piped into a file or a CI log, 160 instead of rich's 80, so that decoded
    calls and addresses are not folded mid-word."""
    return None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160


console = Console(highlight=False, soft_wrap=True, width=_width())


class CommandFailed(click.ClickException):
    """Printed as `Error: <message>` on stderr; exit code 1."""


def fail(message: str) -> CommandFailed:
    return CommandFailed(message)


@contextlib.contextmanager
def quiet_traces() -> Iterator[None]:
    """Silences the call trace ape-foundry prints on every revert it handles (`trace.show()` in its error
    handler); our own one-line error is printed instead. Only the trace printer is muted: stdout stays the
    terminal, so ape's "Sign:" and passphrase prompts are seen."""

    def _no_show(*_args: Any, **_kwargs: Any) -> None:
        return None

    with mock.patch.object(Trace, "show", _no_show), mock.patch.object(TraceAPI, "show", _no_show):
        yield


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    out = Table(title=title, title_justify="left")
    for column in columns:
        # fold, never truncate: a signer must see the whole decoded call and every address
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*row)
    console.print(out)
