"""Regression tests for contract bugs found by the assurance suite, named after the property they broke."""

from __future__ import annotations

from typing import Any

import ape
from lg_testkit import USDT


def test_LIM_3__withdraw_limit_lowered_below_withdrawn_today__reverts_daily_limit_with_zero_remaining(  # noqa: N802
    guard: Any, gov: Any, stranger: Any
) -> None:
    """Was: `withdraw` computed `limit - used` unchecked and panicked (0x11) once governance lowered the
    daily limit below what had been withdrawn that day."""
    gov(guard.withdraw, stranger, 15_000 * USDT)
    gov(guard.setDailyWithdrawalLimit, 10_000 * USDT)

    with ape.reverts(guard.DailyLimitExceeded, requested=1, remaining=0):
        gov(guard.withdraw, stranger, 1)

    assert guard.withdrawnToday() == 15_000 * USDT


def test_SOLV_2__proposal_to_the_pool_asset__is_refused(  # noqa: N802
    guard: Any, signers: list[Any], token: Any, approved_claim: int
) -> None:
    """Was: a proposal could call `asset.transfer` / `asset.approve` from the pool, moving reserved funds
    past `withdraw`'s free-balance check and daily limit and breaking totalAssets() >= reservedAmount()."""
    for data in (
        token.transfer.encode_input(signers[2], guard.totalAssets()),
        token.approve.encode_input(signers[2], guard.totalAssets()),
    ):
        with ape.reverts(guard.InvalidProposalTarget, target=token.address):
            guard.propose(token, 0, data, sender=signers[0])

    assert guard.proposalCount() == 7  # the fixture's setup proposals only
    assert guard.totalAssets() >= guard.reservedAmount() == 800 * USDT
