"""``keeper run --network ecosystem:network:provider --account ALIAS [--once]``: the keeper daemon.

The validator key is an ape account alias (encrypted keystore). Unattended, ape reads its passphrase from
the environment variable ``APE_ACCOUNTS_<alias>_PASSPHRASE``; with neither that variable nor a terminal
the command refuses to start rather than hang on a prompt. The keeper never holds or logs the passphrase.

Exit codes: 0 stopped cleanly (or ``--once`` done); 70 a pass got stuck; 73 another keeper holds the
database; 75 the chain head stopped moving; 78 configuration error (also: ``LG_CLAIM_WINDOW_SECONDS`` longer
than the contract's ``claimGracePeriod()``). A supervisor restarts on non-zero.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import click

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient
from keeper.daemon import (
    EXIT_CONFIG,
    EXIT_LOCKED,
    EXIT_OK,
    AlreadyRunningError,
    Daemon,
    DaemonConfig,
    InstanceLock,
    stop_on_signals,
)
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.service import Verifier
from keeper.logs import configure_logging, quiet_ape_logging
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.pipeline import (
    ClaimWindowTooLongError,
    Pipeline,
    PipelineConfig,
    RunReport,
    check_claim_window,
)
from keeper.settings import AccountsFileError, DeploymentFileError, KeeperSettings
from keeper.store import SqliteStore

__all__ = ["EXIT_CONFIG", "EXIT_LOCKED", "EXIT_OK", "build_pipeline", "run"]

log = logging.getLogger(__name__)


class ConfigurationError(ValueError):
    """The keeper cannot start with what it was given; the message says what to fix."""


def pipeline_config(settings: KeeperSettings) -> PipelineConfig:
    return PipelineConfig(
        confirmations=settings.confirmations,
        start_block=settings.start_block,
        verify_batch_size=settings.verify_batch_size,
        payout_batch_size=settings.payout_batch_size,
        defer_base_seconds=settings.defer_base_seconds,
        defer_max_seconds=settings.defer_max_seconds,
        shard_count=settings.shard_count,
        shard_index=settings.shard_index,
        shard_takeover_seconds=settings.shard_takeover_seconds,
    )


def build_pipeline(
    settings: KeeperSettings,
    contract: Any,
    sender: Any,
    chain_manager: Any,
    metrics: KeeperMetrics | None = None,
) -> Pipeline:
    """Wires the pipeline from settings; ape objects come from the caller (the CLI or a test)."""
    verifier = Verifier(
        settings.account_registry(),
        AdapterRegistry(settings),
        settings.verify_workers,
        observe=None if metrics is None else metrics.observe_outcome,
    )
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
            "held": report.held,
            "posted": report.posted,
            "paid": report.paid,
            "payout_failed": report.payout_failed,
            "appeals": report.appeals,
            "transactions": report.transactions,
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def lock_path(settings: KeeperSettings) -> Path:
    return settings.database_path.with_name(settings.database_path.name + ".lock")


def check_unattended_passphrase(alias: str) -> None:
    if f"APE_ACCOUNTS_{alias}_PASSPHRASE" not in os.environ and not sys.stdin.isatty():
        raise ConfigurationError(
            f"no terminal to ask for the passphrase of account {alias!r}: "
            f"set APE_ACCOUNTS_{alias}_PASSPHRASE in the keeper's environment"
        )


def load_settings(address: str | None) -> tuple[KeeperSettings, str]:
    try:
        settings = KeeperSettings()
        contract_address = address or settings.resolved_contract_address()
    except (ValueError, AccountsFileError, DeploymentFileError) as exc:
        raise ConfigurationError(str(exc)) from None
    if contract_address is None:
        raise ConfigurationError(
            "no contract: pass --contract, or set LG_CONTRACT_ADDRESS or LG_DEPLOYMENT_FILE"
        )
    return settings, contract_address


@click.command()
@click.option("--network", required=True, help="ape network choice, e.g. ethereum:sepolia:node.")
@click.option("--account", "alias", required=True, help="ape account alias of the validator.")
@click.option(
    "--contract",
    "address",
    default=None,
    help="Proxy address (else LG_CONTRACT_ADDRESS / LG_DEPLOYMENT_FILE).",
)
@click.option("--once", is_flag=True, help="Process what is there now, print a JSON summary and exit.")
def run(network: str, alias: str, address: str | None, once: bool) -> None:
    """Read claims from chain, verify them on the exchanges, post verdicts and execute payouts."""
    stop = threading.Event()
    stop_on_signals(stop)  # first thing: a stop during the slow start-up still ends cleanly
    try:
        settings, contract_address = load_settings(address)
        check_unattended_passphrase(alias)
    except ConfigurationError as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    configure_logging(settings.log_format, settings.log_level)
    try:
        lock = InstanceLock(lock_path(settings)).acquire()
    except AlreadyRunningError as exc:
        click.echo(f"not starting: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    try:
        code = _run_locked(settings, network, alias, contract_address, once, stop)
    finally:
        lock.release()
    sys.exit(code)


def _run_locked(
    settings: KeeperSettings,
    network: str,
    alias: str,
    contract_address: str,
    once: bool,
    stop: threading.Event,
) -> int:
    log.info(
        "keeper starting",
        extra={
            "network": network,
            "account": alias,
            "contract": contract_address,
            "settings": settings.redacted(),
        },
    )
    # Imported here: loading ape is slow and only this command needs it.
    from ape import accounts, chain, networks, project

    quiet_ape_logging(settings.log_level)
    with networks.parse_network_choice(network):
        sender = accounts.load(alias)
        sender.set_autosign(True)  # passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE
        contract = project.ILeverageGuard.at(contract_address)
        metrics = KeeperMetrics()
        pipeline = build_pipeline(settings, contract, sender, chain, metrics)
        try:
            check_claim_window(pipeline.policy, pipeline.chain)
        except ClaimWindowTooLongError as exc:
            log.error("configuration error: %s", exc)
            click.echo(f"configuration error: {exc}", err=True)
            return EXIT_CONFIG
        if once:
            click.echo(report_json(pipeline.run_once(should_stop=stop.is_set)))
            return EXIT_OK
        health = HealthState(HealthLimits(settings.watchdog_seconds, settings.max_pass_seconds))
        server = None
        if settings.metrics_enabled:
            server = MetricsServer(settings.metrics_host, settings.metrics_port, metrics, health).start()
            host, port = server.address
            log.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)
        daemon_config = DaemonConfig(
            poll_interval_seconds=settings.poll_interval_seconds,
            watchdog_seconds=settings.watchdog_seconds,
            max_pass_seconds=settings.max_pass_seconds,
        )
        try:
            return Daemon(pipeline, metrics, health, daemon_config, stop).run()
        finally:
            if server is not None:
                server.stop()
