"""``keeper run --network ecosystem:network:provider --account ALIAS [--once]``: the keeper daemon.

The validator key is an ape account alias (encrypted keystore). Unattended, ape reads its passphrase from
the environment variable ``APE_ACCOUNTS_<alias>_PASSPHRASE``; with neither that variable nor a terminal
the command refuses to start rather than hang on a prompt. The keeper never holds or logs the passphrase.
On a local network (``ethereum:local:*``) ``--account TEST::n`` is ape's n-th test account (no passphrase).

The contract is ``--contract``, else ``LG_CONTRACT_ADDRESS``, else the proxy of ``LG_DEPLOYMENT_FILE``, else
that of ``<LG_DEPLOYMENTS_DIR>/<network>.json`` (``deployments/local.json`` for ``ethereum:local:foundry``),
the record `ape run deploy` writes and the ape scripts read. On a local network the keeper counts blocks at
once (``LG_CONFIRMATIONS`` 0) and has no head watchdog (``LG_WATCHDOG_SECONDS`` 0) unless they are set.

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

from keeper.app import ConfigurationError, build_pipeline, load_settings
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
from keeper.logs import configure_logging, quiet_ape_logging
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.pipeline import (
    ClaimWindowTooLongError,
    RunReport,
    check_claim_window,
)
from keeper.settings import (
    KeeperSettings,
    is_local_network,
)
from keeper.tracing import configure as configure_tracing

__all__ = ["EXIT_CONFIG", "EXIT_LOCKED", "EXIT_OK", "run"]

log = logging.getLogger(__name__)


def report_json(report: RunReport) -> str:
    return json.dumps(
        {
            "scanned_to": report.scanned_to,
            "recorded": report.recorded,
            "decided": report.decided,
            "deferred": report.deferred,
            "reviewed": report.reviewed,
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


TEST_ACCOUNT_PREFIX = "TEST::"


class AccountAliasParam(click.ParamType):
    """``--account``: an ape alias, or ``TEST::n`` (ape's n-th test account, local networks only)."""

    name = "alias"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if text.startswith(TEST_ACCOUNT_PREFIX) and index_of_test_account(text) is None:
            self.fail(f"{text!r} is not a test account: TEST:: takes an index, e.g. TEST::4", param, ctx)
        return text


def index_of_test_account(alias: str) -> int | None:
    """n for ``TEST::n``, None for an ape keystore alias (or a malformed ``TEST::`` alias)."""
    index = alias.removeprefix(TEST_ACCOUNT_PREFIX)
    if index == alias or not index.isdigit():
        return None
    return int(index)


def check_account(alias: str, network: str) -> None:
    """Test accounts only on a local network (their keys are public); a keystore needs its passphrase."""
    if alias.startswith(TEST_ACCOUNT_PREFIX):
        if not is_local_network(network):
            raise click.BadParameter(
                f"test account {alias!r} on {network!r}: test accounts are for ethereum:local:* only",
                param_hint="'--account'",
            )
        return
    check_unattended_passphrase(alias)


def check_unattended_passphrase(alias: str) -> None:
    if f"APE_ACCOUNTS_{alias}_PASSPHRASE" not in os.environ and not sys.stdin.isatty():
        raise ConfigurationError(
            f"no terminal to ask for the passphrase of account {alias!r}: "
            f"set APE_ACCOUNTS_{alias}_PASSPHRASE in the keeper's environment"
        )


def load_account(accounts: Any, alias: str) -> Any:
    """The validator: ape's test account ``TEST::n``, else the keystore alias set to sign unattended."""
    index = index_of_test_account(alias)
    if index is not None:
        return accounts.test_accounts[index]
    sender = accounts.load(alias)
    sender.set_autosign(True)  # passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE
    return sender


@click.command()
@click.option("--network", required=True, help="ape network choice, e.g. ethereum:sepolia:node.")
@click.option(
    "--account",
    "alias",
    type=AccountAliasParam(),
    required=True,
    help="ape account alias of the validator; TEST::n on a local network.",
)
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
        check_account(alias, network)
        settings, contract_address = load_settings(address, network)
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
    configure_tracing(settings)  # LG_OTEL_*: the no-op tracer unless an exporter is named
    with networks.parse_network_choice(network):
        sender = load_account(accounts, alias)
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
        health = HealthState(HealthLimits(settings.head_watchdog_seconds, settings.max_pass_seconds))
        server = None
        if settings.metrics_enabled:
            server = MetricsServer(settings.metrics_host, settings.metrics_port, metrics, health).start()
            host, port = server.address
            log.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)
        daemon_config = DaemonConfig(
            poll_interval_seconds=settings.poll_interval_seconds,
            watchdog_seconds=settings.head_watchdog_seconds,
            max_pass_seconds=settings.max_pass_seconds,
        )
        try:
            return Daemon(pipeline, metrics, health, daemon_config, stop).run()
        finally:
            if server is not None:
                server.stop()
