"""`ape run registrar`: whitelist, renew or blacklist traders from a CSV file, in batches.

    export LG_ACCOUNT_REF_SALT=…            # or --salt-file; at least 16 bytes, never printed
    ape run registrar whitelist traders.csv --account registrar [--batch-size 100]
    ape run registrar extend renewals.csv --account registrar
    ape run registrar blacklist banned.csv --account registrar

whitelist CSV columns: address,exchange,exchange_account_id,coverage_limit,coverage_end (limit like "10000
USDT", at most the pool's maxCoverageLimit; end an ISO date or unix time). Each row's accountRef is the salted
hash of exchange and account id (operator_toolkit/registrar.py); the raw id never goes on chain, and an
accountRef is bound to one trader at a time (AccountRefInUse otherwise). Traders with coverage in force (or
already blacklisted) are skipped, so a run stopped half way can simply be run again; one whose coverage ended
starts a new term. With `--keeper-accounts OUT.json` the keeper's credential entries (its LG_ACCOUNTS_FILE,
keyed by accountRef) are written for the rows registered (and rows skipped as in force with the same
accountRef), mode 0600; each row's column keeper_credentials names where its read-only API credentials are,
never the secret itself: `env:PREFIX` (PREFIX_API_KEY, PREFIX_SECRET, PREFIX_PASSPHRASE for OKX) or
`file:PATH` (a JSON object with api_key, secret, passphrase; relative to the CSV). They are read before
anything is sent and never printed. extend CSV columns: address,coverage_limit,coverage_end: renews policies
in force in place (`extendCoverage`: the end only moves later, the limit stays at least what the trader has
used). blacklist CSV: address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from ape import chain
from ape.cli import ConnectedProviderCommand
from rich.progress import Progress

from keeper.interface import MAX_BATCH_SIZE
from operator_toolkit.cli_options import account_option, guard_context
from operator_toolkit.cli_output import CommandFailed, console, fail
from operator_toolkit.context import GuardContext
from operator_toolkit.governance import send
from operator_toolkit.registrar import (
    KeeperEntry,
    chunks,
    load_salt,
    read_addresses,
    read_extensions,
    read_keeper_entries,
    read_whitelist,
    whitelist_batches,
    write_keeper_accounts,
)

CSV_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)


def batch_size_option(function: Callable[..., Any]) -> Callable[..., Any]:
    option = click.option(
        "--batch-size", type=click.IntRange(1, MAX_BATCH_SIZE), default=100, show_default=True
    )
    return option(function)


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
@guard_context
@batch_size_option
@click.option("--salt-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@click.option(
    "--keeper-accounts",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the keeper's credential entries (keyed by accountRef, mode 0600) to this accounts file.",
)
@click.argument("csv_file", type=CSV_FILE)
def whitelist(
    account: Any,
    ctx: GuardContext,
    batch_size: int,
    salt_file: Path | None,
    keeper_accounts: Path | None,
    csv_file: Path,
) -> None:
    """Insure the traders in CSV_FILE."""
    salt = load_salt(salt_file)
    entries = read_keeper_entries(csv_file, salt) if keeper_accounts is not None else []
    policies = read_whitelist(csv_file, salt, ctx.decimals, ctx.symbol)
    now = int(chain.pending_timestamp)
    todo = [p for p in policies if not _in_force(ctx, p.address, now)]
    if skipped := len(policies) - len(todo):
        console.print(f"{skipped} trader(s) already whitelisted with coverage in force: skipped")
    by_address = {entry.address: entry for entry in entries}
    handed_over: list[KeeperEntry] = []

    def hand_over(chosen: list[KeeperEntry]) -> None:
        if keeper_accounts is None or not chosen:
            return
        write_keeper_accounts(keeper_accounts, chosen)
        handed_over.extend(chosen)

    # A trader skipped as in force under the same accountRef is covered by an earlier run: its entry is
    # (re)written too, so a run stopped half way and run again leaves a complete accounts file.
    hand_over(
        [
            by_address[p.address]
            for p in policies
            if p not in todo
            and p.address in by_address
            and bytes(ctx.guard.getPolicy(p.address).accountRef) == p.account_ref
        ]
    )

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
        hand_over([by_address[p.address] for p in batch if p.address in by_address])

    try:
        done = _run_batches(ctx, "whitelisting", whitelist_batches(todo, batch_size), submit)
    finally:
        _report_hand_over(keeper_accounts, handed_over)
    console.print(f"Whitelisted {done} trader(s).")


def _report_hand_over(path: Path | None, entries: Sequence[KeeperEntry]) -> None:
    """The accountRef of every entry written (public: it is on chain), never a credential."""
    if path is None:
        return
    for entry in sorted(entries, key=lambda e: e.line):
        exchange = entry.credentials.exchange.slug
        console.print(
            f"keeper credentials: line {entry.line} {entry.address} {exchange} accountRef {entry.ref_hex}"
        )
    console.print(f"Keeper credentials for {len(entries)} accountRef(s) in {path} (mode 0600).")


def _in_force(ctx: GuardContext, user: str, now: int) -> bool:
    """What `addToWhitelist` refuses as AlreadyWhitelisted: a term not removed whose end is not past."""
    policy = ctx.guard.getPolicy(user)
    return bool(policy.whitelisted) and int(policy.coverageEnd) >= now


@cli.command("extend", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@batch_size_option
@click.argument("csv_file", type=CSV_FILE)
def extend(account: Any, ctx: GuardContext, batch_size: int, csv_file: Path) -> None:
    """Renew the policies in CSV_FILE in place (new limit, later end)."""
    extensions = read_extensions(csv_file, ctx.decimals, ctx.symbol)

    def submit(batch: Any) -> None:
        users = [e.address for e in batch]
        limit, end = batch[0].coverage_limit, batch[0].coverage_end
        send(ctx, ctx.guard.extendCoverage, users, limit, end, sender=account)

    done = _run_batches(ctx, "extending", whitelist_batches(extensions, batch_size), submit)
    console.print(f"Extended {done} polic{'y' if done == 1 else 'ies'}.")


@cli.command("blacklist", cls=ConnectedProviderCommand)
@account_option()
@guard_context
@batch_size_option
@click.argument("csv_file", type=CSV_FILE)
def blacklist(account: Any, ctx: GuardContext, batch_size: int, csv_file: Path) -> None:
    """Blacklist the addresses in CSV_FILE."""
    addresses = read_addresses(csv_file)
    todo = [a for a in addresses if not ctx.guard.isBlacklisted(a)]
    if skipped := len(addresses) - len(todo):
        console.print(f"{skipped} address(es) already blacklisted: skipped")

    def submit(batch: Any) -> None:
        send(ctx, ctx.guard.addToBlacklist, batch, sender=account)

    done = _run_batches(ctx, "blacklisting", chunks(todo, batch_size), submit)
    console.print(f"Blacklisted {done} address(es).")
