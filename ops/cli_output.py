"""What the operator scripts print: rich tables, and failures as one clear line with a non-zero exit."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

import click
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
    """Hides the call trace ape-foundry dumps on every revert (to the stdout it saw at import, so only a
    file-descriptor redirect silences it); our own one-line error is printed instead."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no real stdout (e.g. an embedding host): nothing to silence
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    out = Table(title=title, title_justify="left")
    for column in columns:
        # fold, never truncate: a signer must see the whole decoded call and every address
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*row)
    console.print(out)
