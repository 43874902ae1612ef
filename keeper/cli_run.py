"""``keeper run --network ecosystem:network:provider --account ALIAS --once``: one pass of the pipeline.

The validator key is an ape account alias; with autosign on, ape reads its passphrase from the environment
variable ``APE_ACCOUNTS_<alias>_PASSPHRASE`` (or prompts when there is a terminal). Without ``--once`` the
command refuses to start: the long-running loop is the next slice of issue 5 (see docs/keeper-daemon.md).

Exit codes: 0 the pass completed; 78 configuration error.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import click

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.service import Verifier
from keeper.pipeline import Pipeline, PipelineConfig, RunReport
from keeper.settings import AccountsFileError, KeeperSettings
from keeper.store import SqliteStore

EXIT_OK = 0
EXIT_CONFIG = 78


def pipeline_config(settings: KeeperSettings) -> PipelineConfig:
    return PipelineConfig(
        confirmations=settings.confirmations,
        start_block=settings.start_block,
        verify_batch_size=settings.verify_batch_size,
        payout_batch_size=settings.payout_batch_size,
        defer_base_seconds=settings.defer_base_seconds,
        defer_max_seconds=settings.defer_max_seconds,
    )


def build_pipeline(settings: KeeperSettings, contract: Any, sender: Any, chain_manager: Any) -> Pipeline:
    """Wires the pipeline from settings; ape objects come from the caller (the CLI or a test)."""
    verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers)
    return Pipeline(
        chain=ChainClient(contract, sender, chain_manager),
        store=SqliteStore(settings.database_path),
        audit=AuditLog(settings.audit_log_path),
        verifier=verifier,
        policy=settings.policy(),
        config=pipeline_config(settings),
    )


def report_json(report: RunReport) -> str:
    return json.dumps(
        {
            "scanned_to": report.scanned_to,
            "recorded": report.recorded,
            "decided": report.decided,
            "deferred": report.deferred,
            "posted": report.posted,
            "paid": report.paid,
            "transactions": report.transactions,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


@click.command()
@click.option("--network", required=True, help="ape network choice, e.g. ethereum:sepolia:node.")
@click.option("--account", "alias", required=True, help="ape account alias of the validator.")
@click.option("--contract", "address", default=None, help="Proxy address (or LG_CONTRACT_ADDRESS).")
@click.option("--once", is_flag=True, help="Process what is there and exit (required in this version).")
def run(network: str, alias: str, address: str | None, once: bool) -> None:
    """Read claims from chain, verify them on the exchanges, post verdicts and execute payouts."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not once:
        click.echo("only --once is implemented; the long-running loop is the next slice", err=True)
        sys.exit(EXIT_CONFIG)
    try:
        settings = KeeperSettings()
    except (ValueError, AccountsFileError) as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    contract_address = address or settings.contract_address
    if contract_address is None:
        click.echo("no contract: pass --contract or set LG_CONTRACT_ADDRESS", err=True)
        sys.exit(EXIT_CONFIG)

    # Imported here: loading ape is slow and only this command needs it.
    from ape import accounts, chain, networks, project

    with networks.parse_network_choice(network):
        sender = accounts.load(alias)
        sender.set_autosign(True)  # passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE
        contract = project.LeverageGuard.at(contract_address)
        pipeline = build_pipeline(settings, contract, sender, chain)
        click.echo(report_json(pipeline.run_once()))
    sys.exit(EXIT_OK)
