"""`ape run demo`: the LeverageGuard story on a local chain, step by step, in plain words.

Three signers (threshold 2) govern the pool; a sponsor funds it; the registrar insures a trader; the trader is
liquidated and files a claim; the validator approves it; after the challenge window anyone pays it; a
withdrawal over the daily limit is refused by the contract.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import click
from ape import accounts, chain, project
from ape.cli import ConnectedProviderCommand
from ape.exceptions import ContractLogicError
from ape.logging import logger
from eth_utils import keccak
from rich.console import Console

from ops.deployment import deploy_leverage_guard
from ops.multisig import encode_multicall

USDT = 10**6
DAY = 86_400
CHALLENGE_PERIOD = 6 * 3_600
OKX = 1
STATUS_NAMES = ("None", "Pending", "Approved", "Rejected", "Paid")

console = Console(highlight=False, soft_wrap=True)


def usdt(amount: int) -> str:
    return f"{Decimal(amount) / USDT:,.2f} USDT"


def step(number: int, text: str) -> None:
    console.print(f"\n[bold cyan]{number}.[/] {text}")


def say(text: str) -> None:
    console.print(f"   {text}")


def refusal(error: ContractLogicError) -> str:
    """A revert as `ErrorName(arg=value, …)`, amounts in USDT."""
    inputs = getattr(error, "inputs", {}) or {}
    args = ", ".join(
        f"{name}={usdt(value) if name in {'requested', 'remaining', 'needed', 'free'} else value}"
        for name, value in inputs.items()
    )
    return f"{type(error).__name__}({args})"


@contextlib.contextmanager
def expect_refusal() -> Iterator[list[ContractLogicError]]:
    """Runs a call that should revert, hiding the provider's call-trace dump; yields the caught errors.

    ape-foundry prints the trace of every revert to the `sys.stdout` it saw at import time, so the dump is
    silenced at the file-descriptor level."""
    caught: list[ContractLogicError] = []
    sys.stdout.flush()
    saved_fd = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield caught
        except ContractLogicError as error:
            caught.append(error)
        finally:
            sys.stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
    if not caught:
        raise click.ClickException("a call the demo expected to be refused went through")


def account_ref(exchange_account_id: str, salt: bytes) -> bytes:
    """What goes on chain for a trader's exchange account: a salted hash, never the raw id."""
    return keccak(salt + exchange_account_id.encode())


def pool_line(guard: Any) -> str:
    return (
        f"pool {usdt(guard.totalAssets())}, reserved {usdt(guard.reservedAmount())}, "
        f"free {usdt(guard.freeBalance())}"
    )


@click.command(cls=ConnectedProviderCommand, short_help="Walk the LeverageGuard story on a local chain")
def cli() -> None:
    logger.set_level("WARNING")
    test_accounts = accounts.test_accounts
    signers = list(test_accounts[0:3])
    guardian, validator, registrar, sponsor, trader, keeper_bot = test_accounts[3:9]

    step(1, "Deploy a test stablecoin and LeverageGuard (implementation behind an ERC1967 proxy).")
    token = signers[0].deploy(project.TestUSDT)
    deployment = deploy_leverage_guard(project, signers[0], token, signers, 2)
    guard = deployment.guard
    say(f"TestUSDT at {token.address}; LeverageGuard proxy at {guard.address}, version {guard.version()}")
    say(f"Signers {', '.join(s.address[:10] for s in signers)}; threshold {guard.threshold()} of 3")

    step(2, "Signer 1 proposes one multicall: grant the three roles and set the limits; signer 2 confirms.")
    setup = encode_multicall(
        guard,
        [
            (guard.grantRole, (guard.GUARDIAN_ROLE(), guardian)),
            (guard.grantRole, (guard.VALIDATOR_ROLE(), validator)),
            (guard.grantRole, (guard.REGISTRAR_ROLE(), registrar)),
            (guard.setDailyWithdrawalLimit, (20_000 * USDT,)),
            (guard.setDailyPayoutLimit, (50_000 * USDT,)),
            (guard.setMaxPayoutPerClaim, (5_000 * USDT,)),
            (guard.setChallengePeriod, (CHALLENGE_PERIOD,)),
        ],
    )
    proposal_id = int(guard.propose(guard, 0, setup, sender=signers[0]).return_value)
    say(f"Proposal #{proposal_id}: {guard.getProposal(proposal_id).confirmations} of 2 confirmations")
    with expect_refusal() as refused:
        guard.execute(proposal_id, sender=signers[0])
    say(f"Executing with one confirmation is refused: {refusal(refused[0])}")
    guard.confirm(proposal_id, sender=signers[1])
    guard.execute(proposal_id, sender=signers[0])
    say(
        f"Executed with 2 of 2. Validator role held: {guard.hasRole(guard.VALIDATOR_ROLE(), validator)}; "
        f"daily withdrawal limit {usdt(guard.dailyWithdrawalLimit())}, "
        f"challenge window {CHALLENGE_PERIOD // 3600} h"
    )

    step(3, "A sponsor deposits 100,000 test USDT into the pool.")
    token.mint(sponsor, 100_000 * USDT, sender=sponsor)
    token.approve(guard, 100_000 * USDT, sender=sponsor)
    guard.deposit(100_000 * USDT, sender=sponsor)
    say(pool_line(guard))

    step(4, "The registrar insures a trader for 30 days, up to 10,000 USDT.")
    ref = account_ref("okx-uid-7741", salt=b"demo-salt")
    coverage_end = int(chain.pending_timestamp) + 30 * DAY
    guard.addToWhitelist([trader], [ref], 10_000 * USDT, coverage_end, sender=registrar)
    say(f"Trader {trader.address[:10]} covered; on chain only the account hash 0x{ref.hex()[:16]}…")

    step(5, "The trader is liquidated on OKX and files a claim for 1,200 USDT.")
    receipt = guard.submitClaim(OKX, "612345678901234567", "BTC-USDT-SWAP", 1_200 * USDT, sender=trader)
    claim_id = int(receipt.return_value)
    event = receipt.events[0]
    say(
        f"LiquidationClaimed: claim #{event.claimId}, order {event.orderId}, {event.instrument}, "
        f"{usdt(event.claimedLoss)}"
    )

    step(6, "The validator checks the exchange and approves 1,000 USDT (80% coverage ratio).")
    evidence_hash = keccak(b'{"claim":1,"liquidation":"full","loss":"1250.00"}')
    guard.postVerification(claim_id, True, 1_000 * USDT, evidence_hash, 0, sender=validator)
    say(f"ClaimVerified with evidence hash 0x{evidence_hash.hex()[:16]}…; {pool_line(guard)}")
    with expect_refusal() as refused:
        guard.executePayout(claim_id, sender=keeper_bot)
    say(f"Paying now is refused: {refusal(refused[0])}")

    step(7, f"Time passes: the {CHALLENGE_PERIOD // 3600}-hour challenge window closes with no veto.")
    chain.pending_timestamp += CHALLENGE_PERIOD
    chain.mine()

    step(8, "Anyone may execute the payout; a keeper bot does.")
    guard.executePayout(claim_id, sender=keeper_bot)
    status = STATUS_NAMES[int(guard.getClaim(claim_id).status)]
    say(f"Trader received {usdt(token.balanceOf(trader))}; claim status {status}; {pool_line(guard)}")

    step(9, "A signer proposes withdrawing 30,000 USDT; the daily limit is 20,000 USDT.")
    proposal_id = int(
        guard.propose(
            guard, 0, guard.withdraw.encode_input(signers[0], 30_000 * USDT), sender=signers[0]
        ).return_value
    )
    guard.confirm(proposal_id, sender=signers[1])
    say(f"Proposal #{proposal_id} has {guard.getProposal(proposal_id).confirmations} of 2 confirmations.")
    with expect_refusal() as refused:
        guard.execute(proposal_id, sender=signers[0])
    say(f"Executing it is refused by the contract: {refusal(refused[0])}")
    say(f"Nothing moved: {pool_line(guard)}; withdrawn today {usdt(guard.withdrawnToday())}")

    console.print("\n[bold green]Demo complete.[/] The local chain stops now.")
