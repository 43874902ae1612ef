"""Adapters plus policy against the simulator, over every generated scenario."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from keeper_factories import make_settings

from keeper.evidence import ClaimInput
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.service import (
    OutcomeStatus,
    VerificationOutcome,
    VerificationRequest,
    Verifier,
    decision_for,
)
from keeper.policy import PolicyParams
from keeper.sim.generator import generate
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange


def _observed(
    expected: ExpectedVerdict, policy: PolicyParams, outcome: VerificationOutcome
) -> tuple[object, ...]:
    claim = ClaimInput.model_validate(expected.claim)
    decision = decision_for(claim, policy, outcome)
    assert decision is not None, f"{expected.scenario}: deferred ({outcome.error}: {outcome.detail})"
    evidence = outcome.evidence
    return (
        int(decision.reason_code),
        decision.payout,
        None if evidence is None else evidence.liquidation.value,
        None if evidence is None else evidence.loss,
    )


def _wanted(expected: ExpectedVerdict) -> tuple[object, ...]:
    loss = None if expected.loss is None else Decimal(expected.loss)
    return (expected.reason_code, expected.payout, expected.liquidation, loss)


def test_generated_scenarios__cover_every_policy_reason_but_instrument_mismatch(
    scenarios: ScenarioFile,
) -> None:
    assert {e.reason_code for e in scenarios.expected} == {0, 1, 2, 3, 4, 5, 7, 8, 9, 10}


def test_verify__every_generated_scenario__matches_expected_verdict(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    mismatches = []
    for expected in scenarios.expected:
        request = VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim))
        observed = _observed(expected, policy, verifier.verify(request))
        if observed != _wanted(expected):
            mismatches.append((expected.scenario, observed, _wanted(expected)))
    assert mismatches == []


def test_verify_many__generated_scenarios__same_verdicts_in_request_order(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    requests = [VerificationRequest.for_claim(ClaimInput.model_validate(e.claim)) for e in scenarios.expected]
    outcomes = verifier.verify_many(requests)
    assert [o.request for o in outcomes] == requests
    assert [_observed(e, policy, o) for e, o in zip(scenarios.expected, outcomes, strict=True)] == [
        _wanted(e) for e in scenarios.expected
    ]


def test_verify__okx_liquidation__evidence_carries_digests_of_both_responses(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    expected = next(e for e in scenarios.expected if e.scenario == "okx:full_liquidation")
    outcome = verifier.verify(VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim)))
    assert outcome.status is OutcomeStatus.VERIFIED and outcome.evidence is not None
    assert sorted(outcome.evidence.response_digests) == [
        "GET /api/v5/trade/fills-history",
        "GET /api/v5/trade/order",
    ]


def test_verify__binance_liquidation__uses_order_force_orders_trades_and_income(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    expected = next(e for e in scenarios.expected if e.scenario == "binance:full_liquidation")
    outcome = verifier.verify(VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim)))
    assert outcome.evidence is not None
    assert sorted(outcome.evidence.response_digests) == [
        "GET /fapi/v1/forceOrders",
        "GET /fapi/v1/income",
        "GET /fapi/v1/order",
        "GET /fapi/v1/userTrades",
    ]


def test_verify__wrong_instrument__order_not_found(verifier: Verifier, scenarios: ScenarioFile) -> None:
    expected = next(e for e in scenarios.expected if e.scenario == "binance:full_liquidation")
    claim = ClaimInput.model_validate({**expected.claim, "instrument": "DOGEUSDT"})
    outcome = verifier.verify(VerificationRequest.for_claim(claim))
    assert (outcome.status, outcome.error, outcome.reason_code) == (OutcomeStatus.REJECTED, "not_found", 3)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_verify_many__other_seeds__every_expected_verdict_matches(
    seed: int, accounts_file: Path, tmp_path: Path
) -> None:
    other = generate(30, seed)
    accounts = tmp_path / "accounts.json"
    other.write_keeper_accounts(accounts)
    sim = SimExchange(other).start()
    try:
        settings = make_settings(sim.url, accounts, tmp_path / "malformed")
        verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers)
        policy = PolicyParams.model_validate(other.policy)
        requests = [VerificationRequest.for_claim(ClaimInput.model_validate(e.claim)) for e in other.expected]
        outcomes = verifier.verify_many(requests)
    finally:
        sim.stop()
    assert [_observed(e, policy, o) for e, o in zip(other.expected, outcomes, strict=True)] == [
        _wanted(e) for e in other.expected
    ]
