"""The manual-review desk end to end on anvil and the simulator: a claim the keeper cannot decide waits for
a person (still Pending on chain, never re-polled), ``review list/show`` describe it, ``review decide``
decides it through the policy's caps, the next pass posts the verdict, and ``evidence check --rpc``
re-derives it and agrees with the chain.

Before: an unknown account was rejected on chain for good (UNKNOWN_ACCOUNT), any other claim needing a person
was deferred and re-polled hourly, and there was neither a review state nor a ``review`` command."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner, Result
from support.keeper_world import ROOT, KeeperWorld

from keeper.audit_log import verify_audit_log
from keeper.cli import cli
from keeper.cli.review import decide_claim
from keeper.evidence import ReviewCause
from keeper.interface import ClaimStatus, ReasonCode
from keeper.metrics import KeeperMetrics
from keeper.pipeline import NotInReviewError, Pipeline
from keeper.policy import Decision
from keeper.sim.faults import FaultConfig
from keeper.sim.onchain import FiledClaim, pick_claims
from keeper.sim.scenarios import ExpectedVerdict
from keeper.store import ClaimState


def _pick(world: KeeperWorld, want: Any) -> ExpectedVerdict:
    return next(e for e in pick_claims(world.scenarios, 80) if want(e))


def _invoke(world: KeeperWorld, name: str, *args: str) -> Result:
    env = {"LG_DATABASE_PATH": str(world.tmp_path / f"{name}.sqlite3")}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _claim_verified(guard: Any, claim_id: int) -> Any:
    head = int(guard.chain_manager.blocks.head.number)
    events = [e for e in guard.ClaimVerified.range(0, head + 1) if int(e.claimId) == claim_id]
    assert len(events) == 1
    return events[0]


def _check_against_chain(world: KeeperWorld, name: str, filed: FiledClaim) -> list[dict[str, Any]]:
    exported = _invoke(world, name, "evidence", "export", str(filed.claim_id))
    assert exported.exit_code == 0, exported.output
    bundle = world.tmp_path / f"bundle-{filed.claim_id}.json"
    bundle.write_text(exported.output)
    rpc = str(world.chain.provider.uri)
    checked = CliRunner().invoke(
        cli, ["evidence", "check", str(bundle), "--rpc", rpc, "--guard", world.guard.address]
    )
    lines = [json.loads(line) for line in checked.output.splitlines()]
    assert checked.exit_code == 0, checked.output
    return lines


def test_review_desk__unknown_account__waits_for_a_person_who_approves__posted_and_checked_on_chain(
    keeper_world: Any, validator: Any, guard: Any, caplog: pytest.LogCaptureFixture
) -> None:
    world: KeeperWorld = keeper_world(80)
    expected = _pick(world, lambda e: e.review_cause == "unknown_account" and e.claim["exchange"] == "okx")
    world.whitelist([expected])
    filed = world.file(expected)
    keeper: Pipeline = world.pipeline(validator)

    with caplog.at_level(logging.ERROR, logger="keeper.pipeline"):
        report = keeper.run_once()

    # Not a verdict: Pending on chain, parked for a person with an alert (the keeper's configuration gap).
    assert report.reviewed == [(filed.claim_id, "unknown_account")]
    assert (report.decided, report.deferred, report.posted) == ([], [], [])
    assert world.status(filed) is ClaimStatus.PENDING
    stored = keeper.store.claim(filed.claim_id)
    assert (stored.state, stored.review_cause) == (ClaimState.MANUAL_REVIEW, ReviewCause.UNKNOWN_ACCOUNT)
    assert any(
        r.getMessage().startswith(f"ALERT claim {filed.claim_id}: no credentials for accountRef")
        for r in caplog.records
    )
    world.advance(7_200)  # two hours: a deferred claim would have been verified again by now
    assert keeper.run_once().reviewed == []
    assert keeper.store.claim(filed.claim_id).attempts == 1

    # The desk: list and show.
    listed = _invoke(world, "keeper", "review", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    earliest_ms = (expected.claim["submitted_at"] - world.scenarios.policy["claim_window_seconds"]) * 1000
    assert (row["claim_id"], row["exchange"], row["cause"], row["purge_deadline"]) == (
        filed.claim_id,
        "okx",
        "unknown_account",
        (earliest_ms + 89 * 86_400_000) // 1000,  # OKX's archive: the shortest three months
    )
    shown = _invoke(world, "keeper", "review", "show", str(filed.claim_id), "--json")
    view = json.loads(shown.output)
    assert (view["state"], view["cause"], view["answers"]) == ("manual_review", "unknown_account", [])
    assert view["claim"]["order_id"] == expected.claim["order_id"]
    metrics = KeeperMetrics()
    metrics.observe_reviews(keeper.store.in_review(), keeper.chain.now())
    sample = metrics.registry.get_sample_value
    assert sample("keeper_claims_in_review", {"exchange": "okx", "cause": "unknown_account"}) == 1
    assert sample("keeper_oldest_review_age_seconds") == keeper.chain.now() - stored.review_entered_at

    # A person approves more than the caps allow, with `python -m keeper review decide` as they type it (it
    # reads the chain, posts nothing): the policy's caps still bound the payout.
    claimed = expected.claim["claimed_loss"]
    env = world.keeper_env("no_key_needed", "keeper")
    note = "credentials were added late; order checked by hand"
    args = ["review", "decide", str(filed.claim_id), "--approve", str(claimed * 10), "--reviewer", "alice"]
    done = subprocess.run(
        [sys.executable, "-m", "keeper", *args, "--note", note, "--network", "ethereum:local:foundry"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    decision = Decision.model_validate(out["decision"])
    payout = min(
        claimed, expected.claim["remaining_coverage"], world.scenarios.policy["max_payout_per_claim"]
    )
    assert (decision.approved, decision.payout, decision.reason_code) == (True, payout, ReasonCode.APPROVED)
    assert out["posted_by"] == "next keeper pass"
    assert keeper.store.claim(filed.claim_id).state is ClaimState.DECIDED
    assert world.status(filed) is ClaimStatus.PENDING  # the daemon posts it, not the desk
    audit_lines = (world.tmp_path / "keeper.audit.jsonl").read_text().splitlines()
    last = json.loads(audit_lines[-1])
    assert (last["type"], last["reviewer"], last["evidence_hash"]) == (
        "decision",
        "alice",
        decision.evidence_hash,
    )
    assert last["canonical_record"]["review"] == {
        "reviewer": "alice",
        "note": "credentials were added late; order checked by hand",
        "cause": "unknown_account",
    }
    assert verify_audit_log(world.tmp_path / "keeper.audit.jsonl").ok
    with pytest.raises(NotInReviewError):
        keeper.decide_review(filed.claim_id, "bob", "twice", reject_reason=ReasonCode.ORDER_NOT_FOUND)

    # The next pass posts the person's verdict as the keeper's, with its evidence hash.
    assert keeper.run_once().posted == [filed.claim_id]
    event = _claim_verified(guard, filed.claim_id)
    assert (world.status(filed), int(event.payout), "0x" + bytes(event.evidenceHash).hex()) == (
        ClaimStatus.APPROVED,
        payout,
        decision.evidence_hash,
    )
    lines = _check_against_chain(world, "keeper", filed)
    steps = ["bundle", "answers", "policy", "replay", "decision", "record", "hash", "chain"]
    assert [(line["step"], line["ok"]) for line in lines[:-1]] == [(step, True) for step in steps]
    assert lines[-1] == {"claim_id": filed.claim_id, "ok": True, "failed": []}


def test_review_desk__malformed_answer__kept_raw_shown_rejected_by_a_person_and_checked_on_chain(
    keeper_world: Any, validator: Any, guard: Any
) -> None:
    world: KeeperWorld = keeper_world(80)
    expected = _pick(world, lambda e: e.reason_code == ReasonCode.APPROVED and e.claim["exchange"] == "okx")
    world.whitelist([expected])
    filed = world.file(expected)
    keeper: Pipeline = world.pipeline(validator)
    world.sim.set_faults(FaultConfig(malformed_rate=1.0))

    report = keeper.run_once()

    assert report.reviewed == [(filed.claim_id, "malformed_response")]
    answers = keeper.store.answers(filed.claim_id)
    assert len(answers) >= 1  # the raw bytes that stopped automation, kept at first fetch
    shown = _invoke(world, "keeper", "review", "show", str(filed.claim_id), "--json")
    view = json.loads(shown.output)
    assert [(a["request"], a["status"], a["sha256"]) for a in view["answers"]] == [
        (a.request, a.status, a.sha256) for a in answers
    ]
    assert view["cause"] == "malformed_response"
    world.sim.set_faults(FaultConfig())

    decision = decide_claim(
        keeper,
        filed.claim_id,
        approve=None,
        reject="order_not_found",
        reviewer="bob",
        note="asked OKX support",
    )

    assert (decision.approved, decision.payout, decision.reason_code) == (
        False,
        0,
        ReasonCode.ORDER_NOT_FOUND,
    )
    assert keeper.run_once().posted == [filed.claim_id]
    assert world.status(filed) is ClaimStatus.REJECTED
    assert keeper.store.answers(filed.claim_id) == answers  # a person's decision keeps the answers it read
    lines = _check_against_chain(world, "keeper", filed)
    assert lines[-1] == {"claim_id": filed.claim_id, "ok": True, "failed": []}
    replay = next(line for line in lines if line["step"] == "replay")
    assert replay["detail"].endswith("decided by bob (malformed_response)")


def test_review_desk__claim_decided_on_chain_by_someone_else__leaves_the_desk(
    keeper_world: Any, validator: Any, guard: Any
) -> None:
    """Before: a claim decided elsewhere while it waited stayed on the desk until `review decide` refused
    it."""
    world: KeeperWorld = keeper_world(80)
    expected = _pick(world, lambda e: e.review_cause == "unknown_account")
    world.whitelist([expected])
    filed = world.file(expected)
    keeper: Pipeline = world.pipeline(validator)
    assert keeper.run_once().reviewed == [(filed.claim_id, "unknown_account")]

    # Another keeper with the credentials rejects it on chain.
    guard.postVerification(filed.claim_id, False, 0, b"\x11" * 32, int(ReasonCode.NO_LOSS), sender=validator)
    keeper.run_once()

    assert keeper.store.claim(filed.claim_id).state is ClaimState.POSTED
    assert keeper.store.in_review() == []
    assert _invoke(world, "keeper", "review", "list", "--json").output.strip() == "[]"
