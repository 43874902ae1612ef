"""`ape run registrar`: whitelist or blacklist traders from a CSV file, in batches, with a progress bar.

    export LG_ACCOUNT_REF_SALT=…            # or --salt-file; at least 16 bytes, never printed
    ape run registrar whitelist traders.csv --account registrar [--batch-size 100]
    ape run registrar blacklist banned.csv --account registrar

whitelist CSV columns: address,exchange,exchange_account_id,coverage_limit,coverage_end (limit like "10000
USDT", end an ISO date or unix time). blacklist CSV: an address column. Each row's accountRef is the salted
hash of exchange and account id (ops/registrar.py); the raw id never goes on chain. Traders already
whitelisted (or blacklisted) are skipped, so a run stopped half way can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from ape import project
from ape.cli import ConnectedProviderCommand, account_option
from rich.progress import Progress

from ops.cli_options import guard_options, open_guard
from ops.cli_output import CommandFailed, console, fail
from ops.context import GuardContext
from ops.governance import send
from ops.registrar import chunks, load_salt, read_addresses, read_whitelist, whitelist_batches

CSV_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def batch_size_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--batch-size", type=click.IntRange(1, 200), default=100, show_default=True)(function)


@click.group(short_help="Whitelist / blacklist traders from a CSV file")
def cli() -> None:
    """Registrar batches."""


def _run_batches(ctx: GuardContext, label: str, batches: Sequence[Any], submit: Callable[[Any], None]) -> int:
    done = 0
    total = sum(len(batch) for batch in batches)
    with Progress(console=console, transient=False) as progress:
        task = progress.add_task(label, total=total)
        for number, batch in enumerate(batches, start=1):
            try:
                submit(batch)
            except CommandFailed as error:
                raise fail(
                    f"batch {number} of {len(batches)} refused: {error.message} ({done} done before it)"
                ) from None
            done += len(batch)
            progress.update(task, advance=len(batch))
    return done


@cli.command("whitelist", cls=ConnectedProviderCommand)
@account_option()
@guard_options
@batch_size_option
@click.option("--salt-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@click.argument("csv_file", type=CSV_FILE)
def whitelist(
    network: Any,
    account: Any,
    guard_address: str | None,
    deployments_dir: Path,
    batch_size: int,
    salt_file: Path | None,
    csv_file: Path,
) -> None:
    """Insure the traders in CSV_FILE."""
    ctx = open_guard(project, network, guard_address, deployments_dir)
    policies = read_whitelist(csv_file, load_salt(salt_file), ctx.decimals, ctx.symbol)
    todo = [p for p in policies if not ctx.guard.isWhitelisted(p.address)]
    if skipped := len(policies) - len(todo):
        console.print(f"{skipped} trader(s) already whitelisted: skipped")

    def submit(batch: Any) -> None:
        users = [p.address for p in batch]
        refs = [p.account_ref for p in batch]
        send(
            ctx,
            ctx.guard.addToWhitelist,
            users,
            refs,
            batch[0].coverage_limit,
            batch[0].coverage_end,
            sender=account,
        )

    done = _run_batches(ctx, "whitelisting", whitelist_batches(todo, batch_size), submit)
    console.print(f"Whitelisted {done} trader(s).")


@cli.command("blacklist", cls=ConnectedProviderCommand)
@account_option()
@guard_options
@batch_size_option
@click.argument("csv_file", type=CSV_FILE)
def blacklist(
    network: Any,
    account: Any,
    guard_address: str | None,
    deployments_dir: Path,
    batch_size: int,
    csv_file: Path,
) -> None:
    """Blacklist the addresses in CSV_FILE."""
    ctx = open_guard(project, network, guard_address, deployments_dir)
    addresses = read_addresses(csv_file)
    todo = [a for a in addresses if not ctx.guard.isBlacklisted(a)]
    if skipped := len(addresses) - len(todo):
        console.print(f"{skipped} address(es) already blacklisted: skipped")

    def submit(batch: Any) -> None:
        send(ctx, ctx.guard.addToBlacklist, batch, sender=account)

    done = _run_batches(ctx, "blacklisting", chunks(todo, batch_size), submit)
    console.print(f"Blacklisted {done} address(es).")
