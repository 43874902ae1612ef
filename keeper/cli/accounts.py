"""``keeper accounts check --network ecosystem:network:provider``: does the keeper hold working credentials
for every whitelisted trader on chain?

The traders are those of the contract's ``Whitelisted`` events whose policy (``getPolicy``) is whitelisted and
not blacklisted; each one's ``accountRef`` is looked up in the keeper's accounts (``LG_ACCOUNTS_FILE`` /
``LG_ACCOUNTS_JSON``) and its credentials are tried with one read-only, signed request: the exchange's order
query for an order id that does not exist. "Order does not exist" means the exchange accepted the key and
the signature; a refused key or signature is reported as failing with the exchange's code. The contract is
found as ``keeper run`` finds it (``--contract``, ``LG_CONTRACT_ADDRESS``, ``LG_DEPLOYMENT_FILE``,
``deployments/<network>.json``). Nothing is sent to the chain and no credential is printed.

One line per trader, then a summary; exit 0 when every trader is covered, 1 when any is missing or failing,
78 on a configuration error.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import click

from keeper.app import ConfigurationError, load_settings
from keeper.daemon import EXIT_CONFIG, EXIT_OK
from keeper.exchanges.base import OrderQuery
from keeper.exchanges.errors import (
    AuthenticationError,
    ExchangeError,
    NeedsReviewError,
    OrderNotFoundError,
)
from keeper.exchanges.registry import AdapterRegistry, UnsupportedExchangeError
from keeper.interface import Exchange
from keeper.logs import configure_logging, quiet_ape_logging
from keeper.settings import AccountRegistry, AccountsFileError, KeeperSettings, UnknownAccountError

EXIT_NOT_COVERED = 1
# An order id no exchange has issued, on an instrument each one lists: the probe's read-only query.
PROBE_ORDER_ID = "1"
PROBE_INSTRUMENTS = {Exchange.OKX: "BTC-USDT-SWAP", Exchange.BINANCE: "BTCUSDT"}


class Coverage(StrEnum):
    OK = "ok"
    MISSING = "missing"
    FAILING = "failing"


@dataclass(frozen=True)
class TraderCheck:
    trader: str
    account_ref: str
    exchange: str
    coverage: Coverage
    detail: str

    def line(self) -> str:
        text = f"{self.trader} accountRef {self.account_ref} {self.exchange}: {self.coverage.value}"
        return f"{text} ({self.detail})" if self.detail else text


def probe(registry: AccountRegistry, adapters: AdapterRegistry, trader: str, account_ref: str) -> TraderCheck:
    """One trader: its credentials, and whether the exchange accepts them (one read-only, signed query)."""
    try:
        credentials = registry.lookup(account_ref)
    except UnknownAccountError:
        return TraderCheck(trader, account_ref, "-", Coverage.MISSING, "no credentials for this accountRef")
    exchange = credentials.exchange
    try:
        adapter = adapters.adapter_for(credentials)
        now = adapter.now_ms()
        adapter.fetch_evidence(
            OrderQuery(
                order_id=PROBE_ORDER_ID,
                instrument=PROBE_INSTRUMENTS[exchange],
                not_before_ms=now,
                not_after_ms=now,
            )
        )
    except (OrderNotFoundError, NeedsReviewError):  # an authenticated answer about an order we made up
        return TraderCheck(trader, account_ref, exchange.slug, Coverage.OK, "")
    except AuthenticationError as exc:
        return TraderCheck(
            trader, account_ref, exchange.slug, Coverage.FAILING, f"credentials refused: {exc}"
        )
    except (ExchangeError, UnsupportedExchangeError, KeyError) as exc:
        return TraderCheck(
            trader, account_ref, exchange.slug, Coverage.FAILING, f"{type(exc).__name__}: {exc}"
        )
    return TraderCheck(trader, account_ref, exchange.slug, Coverage.OK, "")  # an order 1 exists: still signed


def whitelisted_traders(contract: Any, from_block: int, head: int) -> list[tuple[str, str]]:
    """(trader, accountRef) of every trader whitelisted since ``from_block`` whose policy is in force now."""
    seen: dict[str, None] = {}
    for log in contract.Whitelisted.range(from_block, head + 1):
        seen.setdefault(str(log.user), None)
    traders = []
    for user in seen:
        policy = contract.getPolicy(user)
        if bool(policy.whitelisted) and not bool(policy.blacklisted):
            traders.append((user, "0x" + bytes(policy.accountRef).hex()))
    return traders


def summary(checks: Iterable[TraderCheck]) -> str:
    checks = list(checks)
    counts = {c: sum(1 for check in checks if check.coverage is c) for c in Coverage}
    return (
        f"{len(checks)} whitelisted trader(s): {counts[Coverage.OK]} covered, "
        f"{counts[Coverage.MISSING]} missing, {counts[Coverage.FAILING]} failing"
    )


@click.group()
def accounts() -> None:
    """The keeper's exchange credentials, per accountRef."""


@accounts.command("check")
@click.option("--network", required=True, help="ape network choice, e.g. ethereum:local:foundry.")
@click.option(
    "--contract",
    "address",
    default=None,
    help="Proxy address (else LG_CONTRACT_ADDRESS / LG_DEPLOYMENT_FILE / deployments/<network>.json).",
)
def check(network: str, address: str | None) -> None:
    """Report, for every whitelisted trader on chain, whether the keeper's credentials exist and work."""
    try:
        settings, contract_address = load_settings(address, network)
        registry = settings.account_registry()
    except (ConfigurationError, AccountsFileError) as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)
    configure_logging(settings.log_format, settings.log_level)
    sys.exit(_check(settings, registry, network, contract_address))


def _check(settings: KeeperSettings, registry: AccountRegistry, network: str, contract_address: str) -> int:
    from ape import chain, networks, project  # slow to import; only this command and `run` need it

    quiet_ape_logging(settings.log_level)
    with networks.parse_network_choice(network):
        contract = project.ILeverageGuard.at(contract_address)
        traders = whitelisted_traders(contract, settings.start_block, int(chain.blocks.head.number))
    adapters = AdapterRegistry(settings)
    checks = [probe(registry, adapters, trader, ref) for trader, ref in traders]
    for result in checks:
        click.echo(result.line())
    click.echo(summary(checks))
    return EXIT_OK if all(c.coverage is Coverage.OK for c in checks) else EXIT_NOT_COVERED
