"""The hash-chained audit log: what it writes, and that verification finds edits, deletions and bad hashes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.factories import claim, evidence, policy

from keeper import audit_log as audit_log_module
from keeper.audit_log import GENESIS, AuditLog, verify_audit_log
from keeper.evidence import ReviewCause
from keeper.policy import Review, canonical_record, decide, decide_by_person

REPO = Path(__file__).resolve().parents[2]


def write_log(path: Path) -> list[str]:
    """Three decisions and a transaction; returns the evidence hashes in order."""
    log = AuditLog(path)
    hashes = []
    for claim_id, pnl in ((1, "-400"), (2, "-100"), (3, "50")):
        c, e, p = claim(claim_id=claim_id), evidence(realized_pnl=pnl), policy()
        d = decide(c, p, e)
        log.record_decision(
            claim_id, d, canonical_record(c, e, d.approved, d.payout, d.reason_code, "test-1"), 99
        )
        hashes.append(d.evidence_hash)
    log.record_transaction("verify", "0x" + "12" * 32, [1, 2, 3], "confirmed", 123_456, 100)
    return hashes


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def rewrite(path: Path, new_lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in new_lines))


def tamper_entry(path: Path, index: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Rewrites the log with its line ``index`` (from 0) changed by ``change``, serialised as the log writes
    a line: what someone editing one record by hand would leave."""
    content = lines(path)
    entry = json.loads(content[index])
    change(entry)
    content[index] = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    rewrite(path, content)


def test_record__chains_each_line_to_the_previous_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    hashes = write_log(path)

    entries = [json.loads(line) for line in lines(path)]
    assert entries[0]["prev_sha256"] == GENESIS
    for previous, entry in zip(lines(path), entries[1:], strict=False):
        assert entry["prev_sha256"] == hashlib.sha256(previous).hexdigest()
    assert [e["evidence_hash"] for e in entries[:3]] == hashes
    assert [e["type"] for e in entries] == ["decision", "decision", "decision", "transaction"]
    assert entries[0]["payout"] == "321200000"  # 0.8 x (400 + 1.5) USDT, under every cap
    assert entries[3]["claim_ids"] == [1, 2, 3]


def test_verify__intact_log__ok(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    report = verify_audit_log(path)
    assert report.ok
    assert (report.lines, report.decisions, report.transactions) == (4, 3, 1)


def test_verify__edited_record__broken_chain_at_next_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    # ts: a field the evidence hash does not cover, so only the chain can catch it
    tamper_entry(path, 1, lambda entry: entry.update(ts=98))

    report = verify_audit_log(path)

    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (3, "broken_chain")


def test_verify__deleted_record__broken_chain_where_it_was(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    content = lines(path)
    rewrite(path, content[:1] + content[2:])

    report = verify_audit_log(path)

    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (2, "broken_chain")


def test_verify__changed_evidence_hash__mismatch_on_that_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    tamper_entry(path, 0, lambda entry: entry.update(evidence_hash="0x" + "00" * 32))

    report = verify_audit_log(path)

    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (1, "evidence_hash_mismatch")


def test_verify__changed_payout_in_canonical_record__mismatch(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)

    def raise_payout(entry: dict[str, Any]) -> None:
        entry["canonical_record"]["decision"]["payout"] += 1

    tamper_entry(path, 2, raise_payout)

    report = verify_audit_log(path)

    assert report.problem is not None
    assert (report.problem.line, report.problem.kind) == (3, "evidence_hash_mismatch")


def test_append__after_reopen__continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    AuditLog(path).record_transaction("payout", "0x" + "34" * 32, [1], "confirmed", 1, 200)
    assert verify_audit_log(path).ok
    assert verify_audit_log(path).lines == 5


@pytest.mark.parametrize(("tamper", "code"), [(False, 0), (True, 1)])
def test_cli_audit_verify__exit_code(tmp_path: Path, tamper: bool, code: int) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    if tamper:
        rewrite(path, lines(path)[1:])
    done = subprocess.run(
        [sys.executable, "-m", "keeper", "audit", "verify", "--log", str(path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == code, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert (report["problem"] is None) == (not tamper)


def test_record__person_decision_and_review__kept_with_the_reviewer_and_verified(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    c, p = claim(claim_id=4), policy()
    review = Review(reviewer="alice", note="checked by hand", cause=ReviewCause.UNKNOWN_ACCOUNT)
    d = decide_by_person(c, p, None, review, approve_units=10**6)
    digests = [{"request": "GET /x", "status": 200, "observed_at_ms": 1, "sha256": "00" * 32}]
    log.record_review(4, "unknown_account", "no credentials", digests, timestamp=50)
    log.record_decision(
        4,
        d,
        canonical_record(c, None, True, d.payout, d.reason_code, "test-1", (), review),
        60,
        reviewer="alice",
    )

    review_line, decision_line = (json.loads(line) for line in lines(path))
    assert (review_line["type"], review_line["cause"], review_line["answers"]) == (
        "review",
        "unknown_account",
        digests,
    )
    assert (decision_line["reviewer"], decision_line["canonical_record"]["review"]["reviewer"]) == (
        "alice",
        "alice",
    )
    report = verify_audit_log(path)
    assert (report.ok, report.lines, report.decisions) == (True, 2, 1)


APPEND_MANY = """
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from keeper.audit_log import AuditLog
log = AuditLog(Path(sys.argv[1]))
for i in range(400):
    log.record_transaction("verify", sys.argv[2], [i], "confirmed", None, i)
"""


def test_append__three_processes_at_once__one_intact_chain(tmp_path: Path) -> None:
    """`keeper review decide` appends while the daemon does: without the file lock two of them read the same
    last line and the chain forks (3 x 400 appends broke it at line 158 with the lock removed)."""
    path = tmp_path / "audit.jsonl"
    procs = [
        subprocess.Popen([sys.executable, "-c", APPEND_MANY, str(path), f"0x{n:064x}"], cwd=REPO)
        for n in (1, 2, 3)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]

    report = verify_audit_log(path)
    assert (report.ok, report.transactions) == (True, 1200)


def test_record_decisions__a_group__one_fsync_and_the_same_lines_as_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    verdicts = []
    for claim_id, pnl in ((1, "-400"), (2, "-100"), (3, "50")):
        c, e, p = claim(claim_id=claim_id), evidence(realized_pnl=pnl), policy()
        d = decide(c, p, e)
        verdicts.append((claim_id, d, canonical_record(c, e, d.approved, d.payout, d.reason_code, "test-1")))
    one_by_one, grouped = tmp_path / "one.jsonl", tmp_path / "group.jsonl"
    for claim_id, d, record in verdicts:
        AuditLog(one_by_one).record_decision(claim_id, d, record, 99)
    fsyncs: list[int] = []
    real_fsync = audit_log_module.os.fsync
    monkeypatch.setattr(audit_log_module.os, "fsync", lambda fd: fsyncs.append(fd) or real_fsync(fd))

    AuditLog(grouped).record_decisions(verdicts, 99)

    assert len(fsyncs) == 1
    assert grouped.read_bytes() == one_by_one.read_bytes()  # same records, same chain
    report = verify_audit_log(grouped)
    assert (report.ok, report.decisions) == (True, 3)


def test_record_decisions__after_earlier_lines__chains_to_the_last_one(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_log(path)
    c, e, p = claim(claim_id=9), evidence(realized_pnl="-50"), policy()
    d = decide(c, p, e)

    AuditLog(path).record_decisions(
        [(9, d, canonical_record(c, e, d.approved, d.payout, d.reason_code, "test-1"))], 7
    )

    entries = lines(path)
    assert json.loads(entries[-1])["prev_sha256"] == hashlib.sha256(entries[-2]).hexdigest()
    assert verify_audit_log(path).ok
