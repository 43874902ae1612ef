"""Constants and helpers shared by the contract tests (fixtures live in conftest.py).

A module of its own, not `conftest`: pytest imports each conftest.py under the one module name `conftest`, so
`from conftest import …` would depend on which conftest was imported last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ops.deployment import deploy_leverage_guard

USDT = 10**6
DAY = 86_400
PAUSE_CLAIMS, PAUSE_VERIFICATIONS, PAUSE_PAYOUTS, PAUSE_WITHDRAWALS, PAUSE_DEPOSITS = 1, 2, 4, 8, 16
OKX, BINANCE, BYBIT = 1, 2, 3
PENDING, APPROVED, REJECTED, PAID = 1, 2, 3, 4
ACCOUNT_REF = bytes.fromhex("ab" * 32)
EVIDENCE = bytes.fromhex("e1" * 32)
COVERAGE_LIMIT = 10_000 * USDT
POOL_FUNDS = 100_000 * USDT
CHALLENGE_PERIOD = 3_600


def deploy_guard(project: Any, deployer: Any, asset: Any, signer_list: list[Any], threshold: int) -> Any:
    """Implementation + ERC1967 proxy, initialised; returns the LeverageGuard interface at the proxy."""
    return deploy_leverage_guard(project, deployer, asset, signer_list, threshold).guard


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


ClaimFiler = Callable[..., int]


def configure(guard: Any, signers: list[Any], guardian: Any, validator: Any, registrar: Any) -> None:
    """Roles granted and limits set, each through a 2-of-3 proposal, as the fixtures' `configured` has."""
    gov = Governance(guard, signers)
    gov(guard.grantRole, guard.GUARDIAN_ROLE(), guardian)
    gov(guard.grantRole, guard.VALIDATOR_ROLE(), validator)
    gov(guard.grantRole, guard.REGISTRAR_ROLE(), registrar)
    gov(guard.setDailyWithdrawalLimit, 20_000 * USDT)
    gov(guard.setDailyPayoutLimit, 50_000 * USDT)
    gov(guard.setMaxPayoutPerClaim, 5_000 * USDT)
    gov(guard.setChallengePeriod, CHALLENGE_PERIOD)
