"""``python -m keeper``: the keeper's command group (``verify`` now; the ``run`` daemon joins it later)."""

from __future__ import annotations

import click

from keeper.cli_verify import verify


@click.group()
def cli() -> None:
    """LeverageGuard keeper."""


cli.add_command(verify)

if __name__ == "__main__":
    cli()
