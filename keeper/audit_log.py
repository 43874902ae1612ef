"""Append-only JSON-lines audit log, hash-chained so that an edited, deleted or inserted line is detectable.

Each line is one JSON object with ``prev_sha256``: the SHA-256 of the previous line's bytes (without its
newline); the first line uses 64 zeros. A decision record also carries the evidence hash posted on chain
and the canonical record it commits to, so ``verify_audit_log`` can recompute the hash independently.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from keeper.policy import Decision, hash_record

GENESIS = "0" * 64


class AuditLogError(RuntimeError):
    """The log cannot be appended to because its last line is unreadable."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"audit log {path}: {detail}")
        self.path = path


class AuditLog:
    """Appends records; each append is one write(2) + fsync of a whole line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"AuditLog({self.path})"

    def record_decision(
        self,
        claim_id: int,
        decision: Decision,
        canonical_record: dict[str, Any],
        timestamp: int,
        reviewer: str | None = None,
    ) -> None:
        """A verdict; ``reviewer`` names the person who decided it (manual review), None for the policy."""
        self.record_decisions([(claim_id, decision, canonical_record)], timestamp, reviewer)

    def record_decisions(
        self,
        verdicts: Sequence[tuple[int, Decision, dict[str, Any]]],
        timestamp: int,
        reviewer: str | None = None,
    ) -> None:
        """``record_decision`` for each (claim id, decision, canonical record), in order, as one append: one
        write(2) and one fsync for the group (a process killed mid-append leaves all of it or none)."""
        entries: list[dict[str, Any]] = []
        for claim_id, decision, canonical_record in verdicts:
            entry: dict[str, Any] = {
                "type": "decision",
                "ts": timestamp,
                "claim_id": claim_id,
                "approved": decision.approved,
                "payout": str(decision.payout),
                "reason_code": int(decision.reason_code),
                "evidence_hash": decision.evidence_hash,
                "canonical_record": canonical_record,
            }
            if reviewer is not None:
                entry["reviewer"] = reviewer
            entries.append(entry)
        self._append(*entries)

    def record_review(
        self, claim_id: int, cause: str, detail: str, answers: list[dict[str, object]], timestamp: int
    ) -> None:
        """A claim sent to a person, with the digests of the raw answers kept for them."""
        self._append(
            {
                "type": "review",
                "ts": timestamp,
                "claim_id": claim_id,
                "cause": cause,
                "detail": detail,
                "answers": answers,
            }
        )

    def record_transaction(
        self, kind: str, tx_hash: str, claim_ids: list[int], status: str, gas_used: int | None, timestamp: int
    ) -> None:
        self._append(
            {
                "type": "transaction",
                "ts": timestamp,
                "kind": kind,
                "tx_hash": tx_hash,
                "claim_ids": claim_ids,
                "status": status,
                "gas_used": gas_used,
            }
        )

    def _append(self, *bodies: dict[str, Any]) -> None:
        """Appends one line per body, each chained to the line before it."""
        if not bodies:
            return
        with self._lock:
            # One write(2) of whole lines on an O_APPEND descriptor: a process killed mid-append leaves
            # either all the lines or none of them (no torn record to break the chain).
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                # `keeper review decide` appends from another process than the daemon: the flock keeps the
                # read-last-line / append pair atomic across processes (the thread lock only within one).
                fcntl.flock(fd, fcntl.LOCK_EX)
                previous = self._last_line_digest()
                lines: list[bytes] = []
                for body in bodies:
                    line = json.dumps(
                        {**body, "prev_sha256": previous}, sort_keys=True, separators=(",", ":")
                    )
                    lines.append(line.encode() + b"\n")
                    previous = hashlib.sha256(lines[-1][:-1]).hexdigest()
                data = b"".join(lines)
                written = os.write(fd, data)
                if written != len(data):
                    raise AuditLogError(self.path, f"short write ({written} of {len(data)} bytes)")
                os.fsync(fd)
            finally:
                os.close(fd)

    def _last_line_digest(self) -> str:
        if not self.path.exists() or self.path.stat().st_size == 0:
            return GENESIS
        last = _last_line(self.path)
        if not last:
            raise AuditLogError(self.path, "ends with an empty line")
        return hashlib.sha256(last).hexdigest()


def _last_line(path: Path) -> bytes:
    # Reads backwards in blocks so appending stays cheap on a long log.
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        buffer = b""
        position = end
        while position > 0:
            step = min(8192, position)
            position -= step
            handle.seek(position)
            buffer = handle.read(step) + buffer
            stripped = buffer[:-1] if buffer.endswith(b"\n") else buffer
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1]
        return buffer[:-1] if buffer.endswith(b"\n") else buffer


class AuditProblem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    """1-based line number of the first bad line."""
    kind: str
    """``broken_chain``, ``evidence_hash_mismatch``, ``unparseable`` or ``missing_field``."""
    detail: str


class AuditReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    lines: int
    decisions: int
    transactions: int
    problem: AuditProblem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_audit_log(path: Path) -> AuditReport:
    """Checks the hash chain and recomputes each decision's evidence hash; stops at the first bad line."""
    expected_prev = GENESIS
    decisions = transactions = count = 0
    raw = path.read_bytes()
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()

    def report(problem: AuditProblem | None) -> AuditReport:
        return AuditReport(
            path=str(path), lines=count, decisions=decisions, transactions=transactions, problem=problem
        )

    for number, line in enumerate(lines, start=1):
        count = number
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            return report(AuditProblem(line=number, kind="unparseable", detail=str(exc)))
        prev = entry.get("prev_sha256")
        if prev != expected_prev:
            detail = f"prev_sha256 {prev!r} != sha256 of the previous line {expected_prev}"
            return report(AuditProblem(line=number, kind="broken_chain", detail=detail))
        if entry.get("type") == "decision":
            decisions += 1
            record = entry.get("canonical_record")
            claimed = entry.get("evidence_hash")
            if not isinstance(record, dict) or not isinstance(claimed, str):
                detail = "decision without canonical_record or evidence_hash"
                return report(AuditProblem(line=number, kind="missing_field", detail=detail))
            try:
                recomputed = hash_record(record)
            except TypeError as exc:
                return report(AuditProblem(line=number, kind="unparseable", detail=str(exc)))
            if recomputed != claimed:
                detail = f"evidence_hash {claimed} != recomputed {recomputed} (claim {entry.get('claim_id')})"
                return report(AuditProblem(line=number, kind="evidence_hash_mismatch", detail=detail))
        elif entry.get("type") == "transaction":
            transactions += 1
        expected_prev = hashlib.sha256(line).hexdigest()
    return report(None)
