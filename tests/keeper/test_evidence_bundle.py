"""Evidence bundles: a verdict re-derived from the exchange's raw answers alone (``keeper.evidence_bundle``,
``keeper evidence check``), and every kind of tampering named by the step that catches it.

Before: only sha256 digests of the answers were kept, so nobody could re-check a verdict once the exchange
purged the order; there was no bundle and no ``evidence`` command."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support.factories import make_settings

from keeper.cli import cli
from keeper.evidence import ClaimInput, ReviewCause
from keeper.evidence_bundle import build_bundle, chain_step, check_bundle
from keeper.exchanges.answers import RawAnswer, answer_digests
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.interface import ReasonCode
from keeper.policy import Decision, PolicyParams, Review, canonical_record, decide_by_person, decision_for
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.verification import VerificationOutcome, VerificationRequest


def _verify(
    sim: SimExchange, accounts_file: Path, tmp_path: Path, policy: PolicyParams, expected: ExpectedVerdict
) -> tuple[ClaimInput, VerificationOutcome]:
    settings = make_settings(sim.url, accounts_file, tmp_path / "malformed")
    verifier = Verifier(settings.account_registry(), AdapterRegistry(settings), 1)
    claim = ClaimInput.model_validate(expected.claim)
    return claim, verifier.verify(VerificationRequest.for_claim(claim, policy.claim_window_seconds))


def _bundle(claim: ClaimInput, outcome: VerificationOutcome, policy: PolicyParams) -> dict[str, Any]:
    decision = decision_for(claim, policy, outcome)
    assert isinstance(decision, Decision)
    record = canonical_record(
        claim,
        outcome.evidence,
        decision.approved,
        decision.payout,
        decision.reason_code,
        policy.policy_version,
        answer_digests(outcome.answers),
    )
    # Through JSON, as an auditor receives it.
    return json.loads(json.dumps(build_bundle(claim.claim_id, decision, record, outcome.answers, policy)))


def _first(scenarios: ScenarioFile, name: str) -> ExpectedVerdict:
    return next(e for e in scenarios.expected if e.scenario == name)


@pytest.fixture
def policy(scenarios: ScenarioFile) -> PolicyParams:
    return PolicyParams.model_validate(scenarios.policy)


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("okx:full_liquidation", ReasonCode.APPROVED),
        ("binance:full_liquidation", ReasonCode.APPROVED),
        ("okx:normal_close", ReasonCode.NOT_LIQUIDATED),
        ("binance:unknown_order", ReasonCode.ORDER_NOT_FOUND),
    ],
)
def test_check_bundle__verdict_from_the_sim__every_step_agrees(
    sim: SimExchange,
    scenarios: ScenarioFile,
    accounts_file: Path,
    tmp_path: Path,
    policy: PolicyParams,
    scenario: str,
    reason: ReasonCode,
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, scenario))
    bundle = _bundle(claim, outcome, policy)
    assert bundle["decision"]["reason_code"] == reason
    assert len(bundle["answers"]) >= 1

    report = check_bundle(bundle)

    assert [(s.step, s.ok) for s in report.steps] == [
        ("bundle", True),
        ("answers", True),
        ("policy", True),
        ("replay", True),
        ("decision", True),
        ("record", True),
        ("hash", True),
    ]
    assert report.ok and report.claim_id == claim.claim_id


def test_check_bundle__one_changed_byte_in_any_raw_answer__answers_step_fails(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(
        sim, accounts_file, tmp_path, policy, _first(scenarios, "binance:full_liquidation")
    )
    bundle = _bundle(claim, outcome, policy)
    assert len(bundle["answers"]) >= 3  # order, forceOrders, userTrades, income: each one is checked

    for index in range(len(bundle["answers"])):
        tampered = copy.deepcopy(bundle)
        body = bytearray(base64.b64decode(tampered["answers"][index]["body_b64"]))
        body[len(body) // 2] ^= 0x01
        tampered["answers"][index]["body_b64"] = base64.b64encode(bytes(body)).decode()

        report = check_bundle(tampered)

        assert not report.ok
        assert "answers" in report.failed, index
        answers = next(s for s in report.steps if s.step == "answers")
        assert f"answer {index} (" in answers.detail


def test_check_bundle__changed_policy_version__policy_decision_and_hash_steps_fail(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, "okx:full_liquidation"))
    bundle = _bundle(claim, outcome, policy)
    bundle["policy"]["policy_version"] = "lg-policy-2"

    report = check_bundle(bundle)

    assert report.failed == ["policy", "decision", "record", "hash"]  # the re-derived hash differs too
    policy_step = next(s for s in report.steps if s.step == "policy")
    assert policy_step.detail == f"policy 'lg-policy-2' != record {policy.policy_version!r}"


def test_check_bundle__changed_decision__decision_step_fails(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, "okx:full_liquidation"))
    bundle = _bundle(claim, outcome, policy)
    bundle["decision"]["payout"] += 1

    report = check_bundle(bundle)

    assert report.failed == ["decision"]


def test_check_bundle__changed_record__record_and_hash_steps_fail(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, "okx:full_liquidation"))
    bundle = _bundle(claim, outcome, policy)
    bundle["record"]["evidence"]["loss"] = "1"

    report = check_bundle(bundle)

    assert report.failed == ["record", "hash"]
    assert next(s for s in report.steps if s.step == "record").detail.endswith("!= bundle []")


def test_check_bundle__extra_answer_the_adapter_never_asked_for__replay_fails(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, "okx:full_liquidation"))
    bundle = _bundle(claim, outcome, policy)
    bundle["answers"].append(
        RawAnswer(request="GET /x", status=200, body=b"{}", observed_at_ms=1).to_bundle()
    )

    report = check_bundle(bundle)

    assert "replay" in report.failed and "answers" in report.failed
    assert (
        next(s for s in report.steps if s.step == "replay").detail == "1 answers the adapter never asked for"
    )


def test_check_bundle__reviewed_decision__rederived_through_decide_by_person(
    scenarios: ScenarioFile, policy: PolicyParams
) -> None:
    """An unknown account has no answers: the person's decision and its caps are what is re-derived."""
    expected = _first(scenarios, "okx:unknown_account")
    claim = ClaimInput.model_validate(expected.claim)
    review = Review(reviewer="alice", note="account added late", cause=ReviewCause.UNKNOWN_ACCOUNT)
    decision = decide_by_person(claim, policy, None, review, approve_units=claim.claimed_loss + 10**9)
    assert decision.payout == min(claim.claimed_loss, claim.remaining_coverage, policy.max_payout_per_claim)
    record = canonical_record(
        claim, None, True, decision.payout, decision.reason_code, policy.policy_version, [], review
    )
    bundle = json.loads(json.dumps(build_bundle(claim.claim_id, decision, record, [], policy)))

    assert check_bundle(bundle).ok
    bundle["record"]["review"]["reviewer"] = "mallory"
    assert check_bundle(bundle).failed == ["decision", "hash"]  # the reviewer is part of what is hashed


def test_chain_step__hash_differs__fails_naming_both() -> None:
    mine, theirs = "0x" + "11" * 32, "0x" + "22" * 32
    on_chain = {"approved": True, "payout": 5, "evidence_hash": theirs, "reason_code": 0}

    assert chain_step(mine, on_chain).ok is False
    assert chain_step(mine, on_chain).detail.endswith(f"!= bundle {mine}")
    assert chain_step(theirs, on_chain).ok is True
    assert chain_step(mine, None).detail == "no ClaimVerified event for this claim"


def test_cli_evidence_check__tampered_bundle__exit_1_and_the_failing_step_named(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path, policy: PolicyParams
) -> None:
    claim, outcome = _verify(sim, accounts_file, tmp_path, policy, _first(scenarios, "okx:full_liquidation"))
    bundle = _bundle(claim, outcome, policy)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(bundle))
    bundle["decision"]["reason_code"] = int(ReasonCode.NO_LOSS)
    bundle["decision"]["approved"], bundle["decision"]["payout"] = False, 0
    bad.write_text(json.dumps(bundle))
    runner = CliRunner()

    ok = runner.invoke(cli, ["evidence", "check", str(good)])
    tampered = runner.invoke(cli, ["evidence", "check", str(bad)])
    unreadable = runner.invoke(cli, ["evidence", "check", str(tmp_path / "missing.json")])

    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output.splitlines()[-1]) == {"claim_id": claim.claim_id, "ok": True, "failed": []}
    assert tampered.exit_code == 1
    assert json.loads(tampered.output.splitlines()[-1])["failed"] == ["decision"]
    assert unreadable.exit_code == 2
    assert json.loads(unreadable.output)["error"] == "unreadable"
