"""The keeper's durable writes per pass (issue 15): verdicts are audited and stored in groups of a verdict
batch, one audit append (one fsync) and one database transaction per group, each group before its batch is
posted; counted, not timed."""

from __future__ import annotations

import math
import time
from typing import Any

from support.keeper_world import filed_world

from keeper.audit_log import verify_audit_log
from keeper.chain import WriteRevertedError
from keeper.store import ClaimState


def test_run_once__backlog__one_audit_append_and_one_store_transaction_per_verdict_batch(
    keeper_world: Any, validator: Any
) -> None:
    count, batch = 11, 4
    world = filed_world(keeper_world, count)
    keeper = world.pipeline(validator, verify_batch_size=batch, payout_batch_size=batch)
    audited: list[list[int]] = []
    stored: list[list[int]] = []
    posted_when: list[tuple[int, int]] = []  # (claims stored so far, claims posted so far) at each post
    record_decisions, save_decisions = keeper.audit.record_decisions, keeper.store.save_decisions
    send_verifications = keeper.chain.send_verifications

    def audit(verdicts: Any, *args: Any, **kwargs: Any) -> None:
        audited.append([claim_id for claim_id, _, _ in verdicts])
        record_decisions(verdicts, *args, **kwargs)

    def store(verdicts: Any) -> None:
        assert [v.claim_id for v in verdicts] == audited[-1]  # audited first, the same group
        stored.append([v.claim_id for v in verdicts])
        save_decisions(verdicts)

    def post(verdicts: Any, **kwargs: Any) -> Any:
        posted_when.append((sum(map(len, stored)), len(verdicts)))
        return send_verifications(verdicts, **kwargs)

    keeper.audit.record_decisions = audit  # type: ignore[method-assign]
    keeper.store.save_decisions = store  # type: ignore[method-assign]
    keeper.chain.send_verifications = post  # type: ignore[method-assign]

    report = keeper.run_once()

    decided = sorted(report.decided)
    assert decided and len(decided) + len(report.reviewed) == count
    assert [len(group) for group in audited] == [batch] * (len(decided) // batch) + (
        [len(decided) % batch] if len(decided) % batch else []
    )
    assert stored == audited and sorted(c for group in stored for c in group) == decided
    assert len(report.transactions) == math.ceil(len(decided) / batch)
    # Every verdict posted was stored first.
    posted = 0
    for stored_then, size in posted_when:
        posted += size
        assert posted <= stored_then
    assert all(keeper.store.claim(i).state is ClaimState.POSTED for i in decided)
    audit_report = verify_audit_log(keeper.audit.path)
    assert audit_report.ok and audit_report.decisions == len(decided)


def test_run_once__verdict_batches__each_settled_before_the_next_is_sent_none_left_in_flight(
    keeper_world: Any, validator: Any
) -> None:
    world = filed_world(keeper_world, 11)
    keeper = world.pipeline(validator, verify_batch_size=3, payout_batch_size=3)
    events: list[tuple[str, list[int]]] = []
    send, settle = keeper.chain.send_verifications, keeper.chain.settle

    def sending(verdicts: Any, **kwargs: Any) -> Any:
        events.append(("send", [claim_id for claim_id, _ in verdicts]))
        return send(verdicts, **kwargs)

    def settling(pending: Any) -> Any:
        events.append(("settle", list(pending.claim_ids)))
        return settle(pending)

    keeper.chain.send_verifications = sending  # type: ignore[method-assign]
    keeper.chain.settle = settling  # type: ignore[method-assign]

    report = keeper.run_once()

    assert [kind for kind, _ in events] == ["send", "settle"] * (len(events) // 2)
    assert [ids for kind, ids in events if kind == "send"] == [
        ids for kind, ids in events if kind == "settle"
    ]
    assert len(report.transactions) == len(events) // 2 == math.ceil(len(report.decided) / 3)
    assert sorted(report.posted) == sorted(report.decided)
    assert keeper._in_flight is None
    world.assert_verdicts_match_generator(paid=False)


def test_run_once__batch_reverts_when_mined__bisected_and_every_verdict_lands(
    keeper_world: Any, validator: Any
) -> None:
    # The first batch's receipt says it reverted (the state moved between its dry-run and its block): the
    # keeper splits it like a dry-run revert; halves already decided on chain are skipped by the contract.
    world = filed_world(keeper_world, 6)
    keeper = world.pipeline(validator, verify_batch_size=4, payout_batch_size=4)
    settle = keeper.chain.settle
    refused: list[list[int]] = []

    def settling(pending: Any) -> Any:
        if not refused:
            refused.append(list(pending.claim_ids))
            raise WriteRevertedError(
                pending.method, pending.claim_ids, f"reverted when mined ({pending.tx_hash})"
            )
        return settle(pending)

    keeper.chain.settle = settling  # type: ignore[method-assign]

    report = keeper.run_once()

    assert len(refused) == 1 and len(refused[0]) == 4
    assert report.reverted_dry_runs == ["verify"]
    assert report.held == []
    states = {claim_id: keeper.store.claim(claim_id).state for claim_id in report.decided}
    assert states == dict.fromkeys(report.decided, ClaimState.POSTED)
    world.assert_verdicts_match_generator(paid=False)


def test_run_once__claims_seen_in_a_pass__verified_with_the_time_first_seen_kept_while_due(
    keeper_world: Any, validator: Any
) -> None:
    world = filed_world(keeper_world, 3)
    keeper = world.pipeline(validator)
    asked: list[list[Any]] = []
    verify_stream = keeper.verifier.verify_stream

    def stream(requests: Any) -> Any:
        asked.append(list(requests))
        for index, outcome in verify_stream(requests):
            if len(asked) > 1 or index != 0:  # the first pass leaves the first claim undecided: still due
                yield index, outcome

    keeper.verifier.verify_stream = stream  # type: ignore[method-assign]
    before = int(time.time() * 1000)
    keeper.run_once()
    after = int(time.time() * 1000)
    time.sleep(0.01)
    keeper.run_once()

    first_pass, second_pass = asked
    seen = {request.seen_at_ms for request in first_pass}
    assert len(first_pass) == 3 and len(seen) == 1 and before <= seen.pop() <= after
    assert [(r.order_id, r.seen_at_ms) for r in second_pass] == [
        (first_pass[0].order_id, first_pass[0].seen_at_ms)
    ]
