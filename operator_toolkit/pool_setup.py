"""The local pool's reference set-up: roles granted and limits set, each through a governance proposal.

The contract tests' ``configured`` pool, the benchmarks and the forge fixture
(``test/utils/GuardFixture.sol``, which keeps the same figures) all start from it, so a figure measured in
one is the figure tested in the others.
"""

from __future__ import annotations

from typing import Any

from operator_toolkit.multisig import Governance

USDT = 10**6
"""One whole token in base units (6 decimals, as USDT and USDC)."""
CHALLENGE_PERIOD = 3_600
DAILY_WITHDRAWAL_LIMIT = 20_000 * USDT
DAILY_PAYOUT_LIMIT = 50_000 * USDT
MAX_PAYOUT_PER_CLAIM = 5_000 * USDT
DAILY_APPROVAL_LIMIT = 60_000 * USDT
MAX_COVERAGE_LIMIT = 50_000 * USDT


def configure(guard: Any, signers: list[Any], guardian: Any, validator: Any, registrar: Any) -> Governance:
    """Grants the three roles and sets the limits above, one proposal each; returns the governance that
    did it (``signers`` through the in-contract multisig)."""
    gov = Governance(guard, signers)
    gov(guard.grantRole, guard.GUARDIAN_ROLE(), guardian)
    gov(guard.grantRole, guard.VALIDATOR_ROLE(), validator)
    gov(guard.grantRole, guard.REGISTRAR_ROLE(), registrar)
    gov(guard.setDailyWithdrawalLimit, DAILY_WITHDRAWAL_LIMIT)
    gov(guard.setDailyPayoutLimit, DAILY_PAYOUT_LIMIT)
    gov(guard.setMaxPayoutPerClaim, MAX_PAYOUT_PER_CLAIM)
    gov(guard.setDailyApprovalLimit, DAILY_APPROVAL_LIMIT)
    gov(guard.setMaxCoverageLimit, MAX_COVERAGE_LIMIT)
    gov(guard.setChallengePeriod, CHALLENGE_PERIOD)
    return gov
