"""Constants and helpers shared by the contract tests (fixtures live in conftest.py).

A module of its own, not `conftest`: pytest imports each conftest.py under the one module name `conftest`, so
`from conftest import …` would depend on which conftest was imported last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keeper.interface import DEFAULT_CHALLENGE_PERIOD as DEFAULT_CHALLENGE_PERIOD
from keeper.interface import DEFAULT_CLAIM_GRACE_PERIOD as CLAIM_GRACE_PERIOD  # noqa: F401 (re-export)
from keeper.interface import ClaimStatus, Exchange, PauseFlag, SkipReason
from ops.deployment import deploy_implementation, deploy_leverage_guard, guard_at

# The chain's numbers come from keeper/interface.py (the one Python copy, checked against the contract by
# tests/keeper/test_interface.py); the names below are the tests' short spellings of them.
# Plain ints: IntFlag's `~` stays inside the defined bits, the contract's does not.
PAUSE_CLAIMS, PAUSE_VERIFICATIONS = int(PauseFlag.CLAIMS), int(PauseFlag.VERIFICATIONS)
PAUSE_PAYOUTS, PAUSE_WITHDRAWALS = int(PauseFlag.PAYOUTS), int(PauseFlag.WITHDRAWALS)
PAUSE_DEPOSITS, PAUSE_ALL = int(PauseFlag.DEPOSITS), int(PauseFlag.ALL)
OKX, BINANCE, BYBIT = Exchange.OKX, Exchange.BINANCE, Exchange.BYBIT
PENDING, APPROVED = ClaimStatus.PENDING, ClaimStatus.APPROVED
REJECTED, PAID = ClaimStatus.REJECTED, ClaimStatus.PAID
SKIP_WRONG_STATUS = SkipReason.WRONG_STATUS
SKIP_CHALLENGE_WINDOW_OPEN = SkipReason.CHALLENGE_WINDOW_OPEN
SKIP_CHALLENGE_WINDOW_OVER = SkipReason.CHALLENGE_WINDOW_OVER
SKIP_USER_BLACKLISTED = SkipReason.USER_BLACKLISTED
SKIP_DAILY_PAYOUT_LIMIT = SkipReason.DAILY_PAYOUT_LIMIT

USDT = 10**6
DAY = 86_400
ACCOUNT_REF = bytes.fromhex("ab" * 32)
EVIDENCE = bytes.fromhex("e1" * 32)
COVERAGE_LIMIT = 10_000 * USDT
POOL_FUNDS = 100_000 * USDT
CHALLENGE_PERIOD = 3_600
DAILY_APPROVAL_LIMIT = 60_000 * USDT
MAX_COVERAGE_LIMIT = 50_000 * USDT
DAILY_WITHDRAWAL_LIMIT = 20_000 * USDT
DAILY_PAYOUT_LIMIT = 50_000 * USDT
MAX_PAYOUT_PER_CLAIM = 5_000 * USDT
HOUR = 3_600


def deploy_guard(project: Any, deployer: Any, asset: Any, signer_list: list[Any], threshold: int) -> Any:
    """Implementation + ERC1967 proxy, initialised; returns the LeverageGuard interface at the proxy."""
    return deploy_leverage_guard(project, deployer, asset, signer_list, threshold).guard


def deploy_pair(project: Any, deployer: Any) -> tuple[Any, Any]:
    """A LeverageGuard implementation and the LeverageGuardAdmin it delegates to: (implementation, admin)."""
    return deploy_implementation(project, deployer)


def deploy_upgrade_target(project: Any, deployer: Any, container: Any) -> Any:
    """A test-only LeverageGuard subclass (e.g. LeverageGuardV2) deployed with a fresh LeverageGuardAdmin."""
    admin = deployer.deploy(project.LeverageGuardAdmin)
    return deployer.deploy(container, admin)


def as_guard(project: Any, address: Any) -> Any:
    """The whole proxy interface (ILeverageGuard) at `address` (a proxy, or an implementation's address)."""
    return guard_at(project, address)


@dataclass
class Governance:
    """Runs calls as governance through a 2-of-3 proposal: propose (signer 0), confirm (signer 1), execute."""

    guard: Any
    signers: list[Any]

    def propose(self, call: Any, *args: Any, target: Any = None, value: int = 0) -> int:
        data = call.encode_input(*args) if call is not None else b""
        receipt = self.guard.propose(target or self.guard, value, data, sender=self.signers[0])
        return int(receipt.return_value)

    def execute(self, call: Any, *args: Any, target: Any = None) -> Any:
        """Proposes, confirms and executes; returns the execute receipt."""
        proposal_id = self.propose(call, *args, target=target)
        self.guard.confirm(proposal_id, sender=self.signers[1])
        return self.guard.execute(proposal_id, sender=self.signers[0])

    def __call__(self, call: Any, *args: Any) -> Any:
        return self.execute(call, *args)

    def set_daily_payout_limit(self, limit: int) -> Any:
        """Sets the daily payout limit, first lowering maxPayoutPerClaim to it if needed (the contract keeps
        maxPayoutPerClaim <= dailyPayoutLimit), in one multicall proposal."""
        guard = self.guard
        calls = []
        if int(guard.maxPayoutPerClaim()) > limit:
            calls.append(guard.setMaxPayoutPerClaim.encode_input(limit))
        calls.append(guard.setDailyPayoutLimit.encode_input(limit))
        return self.execute(guard.multicall, calls)


ClaimFiler = Callable[..., int]


def configure(guard: Any, signers: list[Any], guardian: Any, validator: Any, registrar: Any) -> None:
    """Roles granted and limits set, each through a 2-of-3 proposal, as the fixtures' `configured` has."""
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
