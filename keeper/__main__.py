"""``python -m keeper``: the keeper's command group (``verify``, ``run [--once]``, ``audit verify``,
``accounts check``, ``review list|show|decide``, ``evidence export|check``, ``console``)."""

from __future__ import annotations

import click

from keeper.cli_accounts import accounts
from keeper.cli_audit import audit
from keeper.cli_console import console
from keeper.cli_evidence import evidence
from keeper.cli_review import review
from keeper.cli_run import run
from keeper.cli_verify import verify


@click.group()
def cli() -> None:
    """LeverageGuard keeper."""


cli.add_command(verify)
cli.add_command(run)
cli.add_command(audit)
cli.add_command(accounts)
cli.add_command(review)
cli.add_command(evidence)
cli.add_command(console)

if __name__ == "__main__":
    cli()
