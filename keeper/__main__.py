"""``python -m keeper``: the keeper's command group (``verify``, ``run [--once]``, ``audit verify``,
``accounts check``)."""

from __future__ import annotations

import click

from keeper.cli_accounts import accounts
from keeper.cli_audit import audit
from keeper.cli_run import run
from keeper.cli_verify import verify


@click.group()
def cli() -> None:
    """LeverageGuard keeper."""


cli.add_command(verify)
cli.add_command(run)
cli.add_command(audit)
cli.add_command(accounts)

if __name__ == "__main__":
    cli()
