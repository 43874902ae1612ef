"""Adapters plus policy against the simulator, over every generated scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.factories import make_settings, observed_verdict, request_for, wanted_verdict

from keeper.evidence import ClaimInput
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.interface import ReasonCode
from keeper.policy import PolicyParams
from keeper.sim.generator import generate
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest


def test_generated_scenarios__cover_every_policy_reason_but_instrument_mismatch(
    scenarios: ScenarioFile,
) -> None:
    assert {e.reason_code for e in scenarios.expected} == {None, 0, 1, 2, 3, 5, 7, 8, 9, 10}
    assert {e.review_cause for e in scenarios.expected} == {None, "unknown_account"}


def test_verify__every_generated_scenario__matches_expected_verdict(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    mismatches = []
    for expected in scenarios.expected:
        observed = observed_verdict(expected, policy, verifier.verify(request_for(expected, policy)))
        if observed != wanted_verdict(expected):
            mismatches.append((expected.scenario, observed, wanted_verdict(expected)))
    assert mismatches == []


def test_verify_many__generated_scenarios__same_verdicts_in_request_order(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    requests = [request_for(e, policy) for e in scenarios.expected]
    outcomes = verifier.verify_many(requests)
    assert [o.request for o in outcomes] == requests
    assert [observed_verdict(e, policy, o) for e, o in zip(scenarios.expected, outcomes, strict=True)] == [
        wanted_verdict(e) for e in scenarios.expected
    ]


def _paths(outcome: VerificationOutcome) -> list[str]:
    return sorted({a.request.split("?")[0] for a in outcome.answers})


def test_verify__okx_liquidation__records_every_answer_byte_for_byte(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    expected = next(e for e in scenarios.expected if e.scenario == "okx:full_liquidation")
    outcome = verifier.verify(request_for(expected, policy))
    assert outcome.status is OutcomeStatus.VERIFIED and outcome.evidence is not None
    assert "GET /api/v5/trade/order" in _paths(outcome)
    assert all(a.status == 200 and a.body.startswith(b"{") for a in outcome.answers)
    assert len({a.request for a in outcome.answers}) == len(outcome.answers)  # one key per request


def test_verify__binance_liquidation__uses_order_force_orders_trades_and_income(
    verifier: Verifier, scenarios: ScenarioFile
) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    expected = next(e for e in scenarios.expected if e.scenario == "binance:full_liquidation")
    outcome = verifier.verify(request_for(expected, policy))
    assert outcome.evidence is not None
    assert {
        "GET /fapi/v1/forceOrders",
        "GET /fapi/v1/income",
        "GET /fapi/v1/order",
        "GET /fapi/v1/userTrades",
    } <= set(_paths(outcome))


def test_verify__wrong_instrument__order_not_found(verifier: Verifier, scenarios: ScenarioFile) -> None:
    policy = PolicyParams.model_validate(scenarios.policy)
    expected = next(e for e in scenarios.expected if e.scenario == "binance:full_liquidation")
    claim = ClaimInput.model_validate({**expected.claim, "instrument": "DOGEUSDT"})
    outcome = verifier.verify(VerificationRequest.for_claim(claim, policy.claim_window_seconds))
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
        requests = [request_for(e, policy) for e in other.expected]
        outcomes = verifier.verify_many(requests)
    finally:
        sim.stop()
    assert [observed_verdict(e, policy, o) for e, o in zip(other.expected, outcomes, strict=True)] == [
        wanted_verdict(e) for e in other.expected
    ]


def test_verify__every_edge_case_of_the_real_exchanges__matches_expected_verdict_or_review(
    edge: ScenarioFile, edge_sim: SimExchange, edge_accounts: Path, tmp_path: Path
) -> None:
    settings = make_settings(edge_sim.url, edge_accounts, tmp_path / "malformed")
    verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), settings.verify_workers)
    policy = PolicyParams.model_validate(edge.policy)
    outcomes = verifier.verify_many([request_for(e, policy) for e in edge.expected])
    observed = [
        (e.scenario, observed_verdict(e, policy, o)) for e, o in zip(edge.expected, outcomes, strict=True)
    ]
    assert observed == [(e.scenario, wanted_verdict(e)) for e in edge.expected]
    assert {"aged_out", "instrument_not_live", "fee_currency", "unmatched_penalty"} <= {
        e.review_cause for e in edge.expected
    }
    assert int(ReasonCode.UNSUPPORTED_SETTLEMENT) in {e.reason_code for e in edge.expected}
