"""Constants and helpers shared by the contract tests (fixtures live in conftest.py).

A module of its own, not `conftest`: pytest imports each conftest.py under the one module name `conftest`, so
`from conftest import …` would depend on which conftest was imported last.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keeper.interface import DEFAULT_CHALLENGE_PERIOD as DEFAULT_CHALLENGE_PERIOD
from keeper.interface import DEFAULT_CLAIM_GRACE_PERIOD as CLAIM_GRACE_PERIOD  # noqa: F401 (re-export)
from keeper.interface import ClaimStatus, Exchange, PauseFlag, SkipReason
from operator_toolkit.deployment import deploy_implementation, deploy_leverage_guard, guard_at
from operator_toolkit.multisig import Governance as Governance

# The reference set-up's figures (operator_toolkit/pool_setup.py), re-exported under the tests' names.
from operator_toolkit.pool_setup import CHALLENGE_PERIOD as CHALLENGE_PERIOD
from operator_toolkit.pool_setup import DAILY_APPROVAL_LIMIT as DAILY_APPROVAL_LIMIT
from operator_toolkit.pool_setup import DAILY_PAYOUT_LIMIT as DAILY_PAYOUT_LIMIT
from operator_toolkit.pool_setup import DAILY_WITHDRAWAL_LIMIT as DAILY_WITHDRAWAL_LIMIT
from operator_toolkit.pool_setup import MAX_COVERAGE_LIMIT as MAX_COVERAGE_LIMIT
from operator_toolkit.pool_setup import MAX_PAYOUT_PER_CLAIM as MAX_PAYOUT_PER_CLAIM
from operator_toolkit.pool_setup import USDT as USDT
from operator_toolkit.pool_setup import configure as configure

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

DAY = 86_400
ACCOUNT_REF = bytes.fromhex("ab" * 32)
EVIDENCE = bytes.fromhex("e1" * 32)
COVERAGE_LIMIT = 10_000 * USDT
POOL_FUNDS = 100_000 * USDT
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


ClaimFiler = Callable[..., int]
