"""Shared actors and a deployed LeverageGuard for the contract tests.

Actors (ape test accounts): three `signers` (threshold 2), `guardian`, `validator`, `registrar`, `trader`,
`other_trader`, `sponsor` and `stranger`. `gov` runs a call as governance: proposes it as signer 0, confirms
it as signer 1, and executes it, exactly as signers would.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.pool import (
    ACCOUNT_REF,
    COVERAGE_LIMIT,
    DAY,
    EVIDENCE,
    OKX,
    POOL_FUNDS,
    USDT,
    ClaimFiler,
    Governance,
    configure,
    deploy_guard,
)


@pytest.fixture(scope="session")
def signers(accounts: Any) -> list[Any]:
    return list(accounts[0:3])


@pytest.fixture(scope="session")
def guardian(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def validator(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def registrar(accounts: Any) -> Any:
    return accounts[5]


@pytest.fixture(scope="session")
def trader(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="session")
def other_trader(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def sponsor(accounts: Any) -> Any:
    return accounts[8]


@pytest.fixture(scope="session")
def stranger(accounts: Any) -> Any:
    return accounts[9]


@pytest.fixture(scope="session")
def deployer(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def token(project: Any, deployer: Any) -> Any:
    return deployer.deploy(project.TestUSDT)


@pytest.fixture(scope="session")
def fresh_guard(project: Any, deployer: Any, token: Any, signers: list[Any]) -> Any:
    """Deployed and initialised, nothing configured: no roles, all limits zero."""
    return deploy_guard(project, deployer, token, signers, 2)


@pytest.fixture(scope="session")
def configured(
    project: Any,
    deployer: Any,
    token: Any,
    signers: list[Any],
    guardian: Any,
    validator: Any,
    registrar: Any,
    sponsor: Any,
) -> Any:
    """Its own deployment with roles granted, limits set, pool funded by the sponsor. Session-scoped: ape's
    isolation reverts each test's changes."""
    guard = deploy_guard(project, deployer, token, signers, 2)
    configure(guard, signers, guardian, validator, registrar)
    token.mint(sponsor, POOL_FUNDS, sender=sponsor)
    token.approve(guard, POOL_FUNDS, sender=sponsor)
    guard.deposit(POOL_FUNDS, sender=sponsor)
    return guard


@pytest.fixture
def guard(configured: Any) -> Any:
    return configured


@pytest.fixture
def gov(guard: Any, signers: list[Any]) -> Governance:
    return Governance(guard, signers)


@pytest.fixture
def coverage_end(chain: Any) -> int:
    return int(chain.pending_timestamp) + 30 * DAY


@pytest.fixture
def insured(guard: Any, registrar: Any, trader: Any, other_trader: Any, coverage_end: int) -> Any:
    """`trader` and `other_trader` whitelisted with COVERAGE_LIMIT until `coverage_end`."""
    guard.addToWhitelist(
        [trader, other_trader],
        [ACCOUNT_REF, bytes.fromhex("cd" * 32)],
        COVERAGE_LIMIT,
        coverage_end,
        sender=registrar,
    )
    return guard


@pytest.fixture
def file_claim(insured: Any, trader: Any) -> ClaimFiler:
    """Files a claim and returns its id."""
    counter = iter(range(1, 10_000))

    def _file(
        loss: int = 1_000 * USDT,
        *,
        by: Any = None,
        exchange: int = OKX,
        order_id: str | None = None,
        instrument: str = "BTC-USDT-SWAP",
    ) -> int:
        oid = order_id or f"order-{next(counter)}"
        receipt = insured.submitClaim(exchange, oid, instrument, loss, sender=by or trader)
        return int(receipt.return_value)

    return _file


@pytest.fixture
def approved_claim(insured: Any, file_claim: ClaimFiler, validator: Any) -> int:
    """A claim for 1,000 USDT approved for 800 USDT, challenge window running."""
    claim_id = file_claim(1_000 * USDT)
    insured.postVerification(claim_id, True, 800 * USDT, EVIDENCE, 0, sender=validator)
    return claim_id
