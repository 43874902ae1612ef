"""The keeper's command group (``verify``, ``run [--once]``, ``audit verify``, ``accounts check``,
``review list|show|decide``, ``evidence export|check``, ``console``): one module per command."""

from __future__ import annotations

import click

from keeper.cli.accounts import accounts
from keeper.cli.audit import audit
from keeper.cli.console import console
from keeper.cli.evidence import evidence
from keeper.cli.review import review
from keeper.cli.run import run
from keeper.cli.verify import verify


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
