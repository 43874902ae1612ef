"""Every command dry-runs before it signs: what would revert is refused with the decoded error (exit 1), and
malformed input is refused at parse time (exit 2, no RPC at all). Either way the sender's nonce and the block
number do not move."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from support.cli import RunCli
from support.pool import COVERAGE_LIMIT, USDT

from keeper.interface import MAX_ORDER_ID_LENGTH


@dataclass(frozen=True)
class World:
    run_cli: RunCli
    guard: Any
    signers: list[Any]
    trader: Any
    stranger: Any


@dataclass(frozen=True)
class Refusal:
    """`setup(world)` prepares the chain and returns (sender, script args); the command must then exit with
    `exit_code` and print `message` exactly, sending nothing."""

    setup: Callable[[World], tuple[Any, list[str]]]
    exit_code: int
    message: Callable[[World], str]


def _claim_args(
    order_id: str = "ord-1", instrument: str = "BTC-USDT-SWAP", loss: str = "1200 USDT"
) -> list[str]:
    return [
        "claim",
        "file",
        "--exchange",
        "okx",
        "--order-id",
        order_id,
        "--instrument",
        instrument,
        "--loss",
        loss,
    ]


def _proposal(world: World) -> int:
    proposer = world.signers[0]
    receipt = world.guard.propose(
        world.guard, 0, world.guard.setMaxPayoutPerClaim.encode_input(4_000 * USDT), sender=proposer
    )
    return int(receipt.return_value)


def _double_confirm(world: World) -> tuple[Any, list[str]]:
    return world.signers[0], ["proposals", "confirm", str(_proposal(world))]


def _execute_below_threshold(world: World) -> tuple[Any, list[str]]:
    return world.signers[0], ["proposals", "execute", str(_proposal(world))]


def _duplicate_claim(world: World) -> tuple[Any, list[str]]:
    world.guard.submitClaim(1, "ord-1", "BTC-USDT-SWAP", 100 * USDT, sender=world.trader)
    return world.trader, _claim_args()


LONG_ID = "a" * 200
REFUSALS = {
    "non-signer propose": Refusal(
        lambda w: (w.stranger, ["propose", "set-max-payout", "4000 USDT"]),
        1,
        lambda w: f"Error: NotSigner(account={w.stranger.address})",
    ),
    "double confirm": Refusal(
        _double_confirm,
        1,
        lambda w: (
            f"Error: AlreadyConfirmed(proposalId={w.guard.proposalCount()}, signer={w.signers[0].address})"
        ),
    ),
    "execute below threshold": Refusal(
        _execute_below_threshold,
        1,
        lambda w: f"Error: ThresholdNotMet(proposalId={w.guard.proposalCount()}, have=1, need=2)",
    ),
    "claim while not whitelisted": Refusal(
        lambda w: (w.stranger, _claim_args()),
        1,
        lambda w: f"Error: NotWhitelisted(user={w.stranger.address})",
    ),
    "200-character order id": Refusal(
        lambda w: (w.trader, _claim_args(order_id=LONG_ID)),
        2,
        lambda w: (
            f"Error: Invalid value for '--order-id': invalid order id {LONG_ID!r}: "
            f"1 to {MAX_ORDER_ID_LENGTH} characters of A-Z a-z 0-9 - _"
        ),
    ),
    "zero loss": Refusal(
        lambda w: (w.trader, _claim_args(loss="0 USDT")),
        2,
        lambda w: "Error: Invalid value for '--loss': '0 USDT' is zero: the amount must be more than 0",
    ),
    "negative loss": Refusal(
        lambda w: (w.trader, _claim_args(loss="-5 USDT")),
        2,
        lambda w: "Error: Invalid value for '--loss': '-5 USDT' is not an amount like '1200 USDT' or '0.5'",
    ),
    "claim over coverage": Refusal(
        lambda w: (w.trader, _claim_args(loss="50000 USDT")),
        1,
        lambda w: (
            "Error: ClaimExceedsCoverage(claimedLoss=50,000 USDT, "
            f"remainingCoverage={COVERAGE_LIMIT // USDT:,} USDT)"
        ),
    ),
    "duplicate claim": Refusal(_duplicate_claim, 1, lambda w: "Error: DuplicateClaim(existingClaimId=1)"),
    "lower-case instrument": Refusal(
        lambda w: (w.trader, _claim_args(instrument="btc-usdt-swap")),
        2,
        lambda w: (
            "Error: Invalid value for '--instrument': invalid instrument 'btc-usdt-swap': 1 to 32 characters "
            "of upper-case A-Z 0-9 - _ (instruments are upper-case: 'BTC-USDT-SWAP')"
        ),
    ),
    "unknown exchange": Refusal(
        lambda w: (w.trader, [*_claim_args()[:3], "bybitx", *_claim_args()[4:]]),
        2,
        lambda w: "Error: Invalid value for '--exchange': 'bybitx' is not one of 'binance', 'bybit', 'okx'.",
    ),
}


@contextmanager
def rpc_counter(provider: Any) -> Iterator[list[str]]:
    """Every JSON-RPC method the node is asked while inside."""
    methods: list[str] = []
    real = provider.web3.provider.make_request

    def counting(method: str, params: Any) -> Any:
        methods.append(str(method))
        return real(method, params)

    with mock.patch.object(provider.web3.provider, "make_request", counting):
        yield methods


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_refused_command__nothing_sent(
    case: str,
    run_cli: RunCli,
    insured: Any,
    signers: list[Any],
    trader: Any,
    stranger: Any,
    chain: Any,
) -> None:
    refusal = REFUSALS[case]
    world = World(run_cli, insured, signers, trader, stranger)
    sender, args = refusal.setup(world)
    nonce, height, claims = sender.nonce, chain.blocks.height, insured.claimCount()

    with rpc_counter(chain.provider) as calls:
        result = run_cli(*args, account=sender)

    assert result.exit_code == refusal.exit_code, result.output
    assert refusal.message(world) in result.output.splitlines(), result.output
    assert (sender.nonce, chain.blocks.height, insured.claimCount()) == (nonce, height, claims)
    assert "eth_sendRawTransaction" not in calls and "eth_sendTransaction" not in calls
    if refusal.exit_code == 2:
        assert calls == [], "malformed input must be refused before any RPC"
