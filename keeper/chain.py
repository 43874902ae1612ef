"""Thin typed wrapper over an ape ``LeverageGuard`` contract instance: logs, views and the two writes.

Every write is dry-run first (``eth_estimateGas`` reverts exactly as the transaction would; the revert is
named from the contract's ABI), and ``send_verifications`` re-reads the on-chain status of each claim not
read Pending in this pass, so a verdict is never posted twice. Logs, views and receipts are encoded and
decoded by ``keeper/chain_codec.py``; ape builds the fees and signs.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict

from keeper import tracing
from keeper.chain_codec import (
    READ_BATCH,
    ErrorCodec,
    EventCodec,
    ViewCodec,
    WriteCodec,
    batches,
    decode_multicall,
    encode_multicall,
)
from keeper.interface import ClaimStatus, SkipReason
from keeper.policy import Decision
from keeper.store import AppealKind, AppealRecord

# The contract's ClaimStatus (keeper.interface); the old name stays for the modules that use it.


class ClaimedEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    user: str
    exchange: int
    account_ref: str
    order_id: str
    instrument: str
    claimed_loss: int
    block_number: int
    log_index: int


@dataclass(frozen=True)
class DecodedLog:
    """One of the pool's logs, decoded: the event's name, its arguments, and where it is in the chain."""

    name: str
    fields: dict[str, Any]
    block_number: int
    log_index: int


class ClaimView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    exchange: int
    status: ClaimStatus
    claimed_loss: int
    payout: int
    submitted_at: int
    decided_at: int
    reason_code: int
    payable_at: int
    """Stamped at approval (decidedAt + the challenge period then in force): veto before, payout from then."""


class PolicyView(BaseModel):
    """``getPolicy``: today's policy. ``used`` = paid out + reserved, over all terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int
    used: int
    whitelisted: bool
    blacklisted: bool

    @property
    def remaining(self) -> int:
        return max(self.coverage_limit - self.used, 0)


class PolicyTerm(BaseModel):
    """A policy term as the chain's events (Whitelisted, CoverageExtended, RemovedFromWhitelist) left it at a
    given log position: what a claim filed there is judged against."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    coverage_limit: int
    coverage_start: int
    coverage_end: int


POLICY_EVENTS = {
    "Whitelisted": "whitelisted",
    "CoverageExtended": "extended",
    "RemovedFromWhitelist": "removed",
}


class PolicyChange(BaseModel):
    """One policy log: ``whitelisted`` starts a term (all fields), ``extended`` sets limit and end,
    ``removed`` moves the end to the removal time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str
    kind: str
    block_number: int
    log_index: int
    account_ref: str | None
    coverage_limit: int | None
    coverage_start: int | None
    coverage_end: int


def term_at(
    changes: Sequence[PolicyChange], user: str, block_number: int, log_index: int
) -> PolicyTerm | None:
    """The term in force for ``user`` just before log ``(block_number, log_index)``, from ``changes`` in chain
    order; None when no term of theirs begins in them (e.g. a policy written before the first block read,
    or by 1.0.0)."""
    term: PolicyTerm | None = None
    for change in changes:
        if change.user != user.lower() or (change.block_number, change.log_index) >= (
            block_number,
            log_index,
        ):
            continue
        if change.kind == "whitelisted":
            assert change.account_ref is not None and change.coverage_limit is not None
            assert change.coverage_start is not None
            term = PolicyTerm(
                account_ref=change.account_ref,
                coverage_limit=change.coverage_limit,
                coverage_start=change.coverage_start,
                coverage_end=change.coverage_end,
            )
        elif term is None:
            continue  # an extension or removal of a term begun before the first block read
        elif change.kind == "extended":
            assert change.coverage_limit is not None
            term = term.model_copy(
                update={"coverage_limit": change.coverage_limit, "coverage_end": change.coverage_end}
            )
        else:
            term = term.model_copy(update={"coverage_end": change.coverage_end})
    return term


class SkippedItem(BaseModel):
    """A batch item the contract did not apply (``VerificationSkipped`` / ``PayoutSkipped``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    reason: SkipReason


class FailedPayout(BaseModel):
    """``PayoutFailed``: the token refused this claim's transfer; it stays Approved and reserved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int
    user: str
    amount: int


class SentTransaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tx_hash: str
    claim_ids: list[int]
    status: str
    gas_used: int | None
    skipped: list[SkippedItem] = []
    """Items the contract skipped, with their SKIP_* reason."""
    failed_payouts: list[FailedPayout] = []
    """Payouts whose transfer the token refused (``executePayouts`` only)."""
    paid: list[int] = []
    """Claims this transaction paid (``PayoutExecuted``; ``executePayouts`` only)."""

    @property
    def failed_claim_ids(self) -> list[int]:
        return [f.claim_id for f in self.failed_payouts]


@dataclass(frozen=True)
class PendingTransaction:
    """A write sent and not yet seen mined: ``ChainClient.settle`` waits for its receipt."""

    tx_hash: str
    method: str
    call: dict[str, str]
    """The eth_call form of the write (from, to, data): dry-run again to name a revert when mined."""
    claim_ids: list[int]


RECEIPT_FIRST_POLL_SECONDS = 0.002
RECEIPT_MAX_POLL_SECONDS = 1.0
GAS_HEADROOM = 1.25
"""Gas limit over the dry-run's estimate: the chain may move between the dry-run and the block (a batch item
another keeper decided in between is skipped, which costs less; a colder storage slot costs more)."""
DEFAULT_LOG_PAGE_BLOCKS = 5_000
"""Blocks per ``eth_getLogs`` when the provider names no page size (ape's default for a node)."""
REVERT_ERROR_CODE = 3
"""JSON-RPC error code of an ``execution reverted`` (geth, anvil, erigon)."""


class TransactionNotMinedError(TimeoutError):
    """A sent transaction had no receipt within the network's acceptance timeout (it may still be mined:
    the next pass re-reads every claim's status before it sends anything again)."""

    def __init__(self, tx_hash: str, timeout_seconds: float) -> None:
        super().__init__(f"transaction {tx_hash} has no receipt after {timeout_seconds:.0f}s")
        self.tx_hash = tx_hash


class ChainWriteError(RuntimeError):
    """A write's dry-run failed for another reason than a revert (the node refused it: e.g. the validator
    has no gas money); nothing was sent."""

    def __init__(self, method: str, claim_ids: Sequence[int], error: str) -> None:
        super().__init__(f"{method} for claims {list(claim_ids)}: the node refused the dry-run: {error}")
        self.method = method
        self.claim_ids = list(claim_ids)
        self.error = error


class WriteRevertedError(RuntimeError):
    """A write's dry-run (or the mined transaction) reverted; ``error`` is the decoded custom error."""

    def __init__(self, method: str, claim_ids: Sequence[int], error: str) -> None:
        super().__init__(f"{method} for claims {list(claim_ids)} reverts: {error}")
        self.method = method
        self.claim_ids = list(claim_ids)
        self.error = error

    @property
    def error_name(self) -> str:
        """The custom error's name (``DailyApprovalLimitExceeded``), or the exception type of a plain
        revert."""
        return self.error.split("(", 1)[0].split(":", 1)[0]


class ChainClient:
    """``contract`` is an ape ContractInstance; ``sender`` an ape account that may post verdicts."""

    def __init__(self, contract: Any, sender: Any, chain_manager: Any) -> None:
        self._contract = contract
        self._sender = sender
        self._chain = chain_manager
        self._codecs: dict[str, ViewCodec] = {}
        self._events: dict[str, EventCodec] = {}
        self._writes: dict[str, WriteCodec] = {}
        self._error_codec: ErrorCodec | None = None
        self.reads: Counter[str] = Counter()
        """Contract reads made: ``eth_call`` requests, and per view the calls they carried (the bench and
        the read-budget test count these)."""

    def __repr__(self) -> str:
        # No sender: a read-only client (the console's), which never writes.
        return f"ChainClient({self._contract.address}, sender={getattr(self._sender, 'address', None)})"

    def head(self) -> int:
        return int(self._chain.blocks.head.number)

    def now(self) -> int:
        """The latest block's timestamp: the contract's clock, not ours."""
        return int(self._chain.blocks.head.timestamp)

    def claimed_events(self, start: int, stop: int) -> list[ClaimedEvent]:
        """``LiquidationClaimed`` logs in blocks ``start..stop`` inclusive, in chain order."""
        return [
            ClaimedEvent(
                claim_id=int(log.fields["claimId"]),
                user=str(log.fields["user"]).lower(),
                exchange=int(log.fields["exchange"]),
                account_ref="0x" + bytes(log.fields["accountRef"]).hex(),
                order_id=str(log.fields["orderId"]),
                instrument=str(log.fields["instrument"]),
                claimed_loss=int(log.fields["claimedLoss"]),
                block_number=log.block_number,
                log_index=log.log_index,
            )
            for log in self._logs(["LiquidationClaimed"], start, stop)
        ]

    def claim(self, claim_id: int) -> ClaimView:
        return self.claims([claim_id])[claim_id]

    def claims(self, claim_ids: Sequence[int]) -> dict[int, ClaimView]:
        """``getClaim`` of every id, ``READ_BATCH`` per ``eth_call`` (the pool's multicall)."""
        ids = list(dict.fromkeys(claim_ids))
        codec = self._codec("getClaim")
        fields = self._read_many([(codec, claim_id) for claim_id in ids])
        return {claim_id: _claim_view(f) for claim_id, f in zip(ids, fields, strict=True)}

    def policy(self, user: str) -> PolicyView:
        return self.policies([user])[user.lower()]

    def policies(self, users: Sequence[str]) -> dict[str, PolicyView]:
        """``getPolicy`` of every trader (keyed by lower-case address), batched as ``claims``."""
        addresses = list(dict.fromkeys(user.lower() for user in users))
        codec = self._codec("getPolicy")
        fields = self._read_many([(codec, to_checksum_address(a)) for a in addresses])
        return {address: _policy_view(f) for address, f in zip(addresses, fields, strict=True)}

    def claims_and_policies(
        self, claim_ids: Sequence[int], users: Sequence[str]
    ) -> tuple[dict[int, ClaimView], dict[str, PolicyView]]:
        """``claims`` and ``policies`` in the same ``eth_call``s (one state: the same block for both)."""
        ids = list(dict.fromkeys(claim_ids))
        addresses = list(dict.fromkeys(user.lower() for user in users))
        claim_codec, policy_codec = self._codec("getClaim"), self._codec("getPolicy")
        fields = self._read_many(
            [(claim_codec, claim_id) for claim_id in ids]
            + [(policy_codec, to_checksum_address(a)) for a in addresses]
        )
        claims = {claim_id: _claim_view(f) for claim_id, f in zip(ids, fields[: len(ids)], strict=True)}
        policies = {a: _policy_view(f) for a, f in zip(addresses, fields[len(ids) :], strict=True)}
        return claims, policies

    def views(self, names: Sequence[str]) -> dict[str, Any]:
        """Views without arguments by name (``totalAssets``, ``getSigners``...), as ape decodes them."""
        return {name: self._view(name) for name in names}

    def _view(self, name: str) -> Any:
        """A view without arguments, through ape, counted as one ``eth_call``."""
        self.reads["eth_call"] += 1
        self.reads[name] += 1
        return getattr(self._contract, name)()

    def _codec(self, name: str) -> ViewCodec:
        codec = self._codecs.get(name)
        if codec is None:
            codec = self._codecs[name] = ViewCodec.from_abi(self._contract.contract_type.abi, name)
        return codec

    def _read_many(self, calls: Sequence[tuple[ViewCodec, Any]]) -> list[dict[str, Any]]:
        """Each (view, argument) decoded, in order: one ``eth_call`` of the pool's ``multicall`` per
        ``READ_BATCH`` calls, all at the latest block."""
        results: list[dict[str, Any]] = []
        web3 = self._chain.provider.web3
        for batch in batches(calls, READ_BATCH):
            data = encode_multicall([codec.encode_call(argument) for codec, argument in batch])
            raw = bytes(web3.eth.call({"to": self._contract.address, "data": data}, "latest"))
            self.reads["eth_call"] += 1
            for (codec, _), result in zip(batch, decode_multicall(raw, len(batch)), strict=True):
                self.reads[codec.name] += 1
                results.append(codec.decode_result(result))
        return results

    def policy_changes(self, start: int, stop: int, user: str | None = None) -> list[PolicyChange]:
        """The Whitelisted / CoverageExtended / RemovedFromWhitelist logs of blocks ``start..stop`` (of one
        ``user``, or of everyone), in chain order: what ``term_at`` rebuilds a policy term from."""
        changes: list[PolicyChange] = []
        for log in self._logs(list(POLICY_EVENTS), start, stop, user):
            args = log.fields
            changes.append(
                PolicyChange(
                    user=str(args["user"]).lower(),
                    kind=POLICY_EVENTS[log.name],
                    block_number=log.block_number,
                    log_index=log.log_index,
                    account_ref=("0x" + bytes(args["accountRef"]).hex() if "accountRef" in args else None),
                    coverage_limit=int(args["coverageLimit"]) if "coverageLimit" in args else None,
                    coverage_start=int(args["coverageStart"]) if "coverageStart" in args else None,
                    coverage_end=int(args["coverageEnd"]),
                )
            )
        return changes

    def _logs(self, names: Sequence[str], start: int, stop: int, user: str | None = None) -> list[DecodedLog]:
        """The contract's logs of the events ``names`` in blocks ``start..stop``, in chain order: one raw
        ``eth_getLogs`` per page of the provider's ``block_page_size`` (a topic-0 OR filter), decoded by the
        keeper's codec (ape's decoding of each log was most of an ingest step); ``user``: only those whose
        first indexed argument is this address."""
        if stop < start:
            return []
        codecs = {codec.topic0: codec for codec in (self._event(name) for name in names)}
        topics: list[Any] = [list(codecs)]
        if user is not None:
            topics.append("0x" + "00" * 12 + user.lower().removeprefix("0x"))
        provider = self._chain.provider
        page = int(getattr(provider, "block_page_size", DEFAULT_LOG_PAGE_BLOCKS))
        decoded: list[DecodedLog] = []
        for first in range(start, stop + 1, page):
            query = {
                "address": str(self._contract.address),
                "fromBlock": hex(first),
                "toBlock": hex(min(first + page - 1, stop)),
                "topics": topics,
            }
            for raw in provider.make_request("eth_getLogs", [query]) or []:
                if raw.get("removed"):
                    continue  # reorged out (only confirmed blocks are read; a node may still say so)
                codec = codecs[str(raw["topics"][0]).lower()]
                fields = codec.decode(raw)
                if fields is None:  # cannot happen: the codec was chosen by this topic
                    raise ValueError(f"log of topic {raw['topics'][0]} did not decode as {codec.name}")
                decoded.append(
                    DecodedLog(
                        name=codec.name,
                        fields=fields,
                        block_number=_quantity(raw["blockNumber"]),
                        log_index=_quantity(raw["logIndex"]),
                    )
                )
        return sorted(decoded, key=lambda log: (log.block_number, log.log_index))

    def appeal_events(self, start: int, stop: int) -> list[AppealRecord]:
        """``ClaimReopened`` / ``ClaimCancelled`` / ``ClaimVetoed`` logs in blocks ``start..stop``, in chain
        order."""
        kinds = {
            "ClaimReopened": AppealKind.REOPENED,
            "ClaimCancelled": AppealKind.CANCELLED,
            "ClaimVetoed": AppealKind.VETOED,
        }
        return [
            AppealRecord(
                claim_id=int(log.fields["claimId"]),
                kind=kinds[log.name],
                block_number=log.block_number,
                log_index=log.log_index,
            )
            for log in self._logs(list(kinds), start, stop)
        ]

    def claim_grace_period(self) -> int:
        return int(self._view("claimGracePeriod"))

    def max_payout_per_claim(self) -> int:
        return int(self._view("maxPayoutPerClaim"))

    def challenge_period(self) -> int:
        return int(self._view("challengePeriod"))

    def send_verifications(
        self, verdicts: Sequence[tuple[int, Decision]], known_pending: Collection[int] = ()
    ) -> PendingTransaction | None:
        """Sends the verdicts of claims still Pending on chain (dry-run, sign, send); None when none is
        (nothing sent); ``settle`` waits for the receipt. ``known_pending``: claims the caller read as Pending
        in this pass, not read again (the contract skips one decided since, with ``VerificationSkipped``)."""
        unknown = [claim_id for claim_id, _ in verdicts if claim_id not in known_pending]
        views = self.claims(unknown) if unknown else {}
        items = [
            (claim_id, d.approved, d.payout, bytes.fromhex(d.evidence_hash[2:]), int(d.reason_code))
            for claim_id, d in verdicts
            if claim_id not in views or views[claim_id].status is ClaimStatus.PENDING
        ]
        if not items:
            return None
        return self._submit("postVerifications", items, [item[0] for item in items])

    def execute_payouts(
        self, claim_ids: Sequence[int], known_approved: Collection[int] = ()
    ) -> SentTransaction | None:
        """Pays the claims still Approved on chain; None when none is. ``known_approved`` as
        ``send_verifications``' ``known_pending`` (the contract skips the others with ``PayoutSkipped``)."""
        unknown = [cid for cid in claim_ids if cid not in known_approved]
        views = self.claims(unknown) if unknown else {}
        ids = [cid for cid in claim_ids if cid not in views or views[cid].status is ClaimStatus.APPROVED]
        if not ids:
            return None
        return self.settle(self._submit("executePayouts", ids, ids))

    def pool_balances(self) -> tuple[int, int]:
        """(token balance, reserved) of the pool."""
        return int(self._view("totalAssets")), int(self._view("reservedAmount"))

    @tracing.traced_send
    def _submit(self, method: str, arguments: Any, claim_ids: list[int]) -> PendingTransaction:
        """Dry-run, sign and send. The keeper encodes the call and dry-runs it with one ``eth_estimateGas``
        (which reverts exactly as the transaction would), ape fills in the fees and signs, the keeper submits
        the raw transaction. ape's ``estimate_gas_cost`` + ``as_transaction`` built the call twice with model
        conversions: at crash-day rates the keeper's largest cost after its fsyncs."""
        provider = self._chain.provider
        call = {
            "from": str(self._sender.address),
            "to": str(self._contract.address),
            "data": "0x" + self._write(method).encode_call(arguments).hex(),
        }
        gas = self._dry_run(method, call, claim_ids)
        txn = provider.network.ecosystem.create_transaction(
            sender=call["from"],
            receiver=call["to"],
            data=bytes.fromhex(call["data"][2:]),
            gas_limit=math.ceil(gas * GAS_HEADROOM),
            nonce=_quantity(provider.make_request("eth_getTransactionCount", [call["from"], "pending"])),
        )
        signed = self._sender.sign_transaction(provider.prepare_transaction(txn))
        if signed is None:
            raise WriteRevertedError(method, claim_ids, "SignatureError: the account did not sign")
        tx_hash = "0x" + bytes(provider.web3.eth.send_raw_transaction(signed.serialize_transaction())).hex()
        return PendingTransaction(tx_hash=tx_hash, method=method, call=call, claim_ids=claim_ids)

    @tracing.traced_settle
    def settle(self, pending: PendingTransaction) -> SentTransaction:
        """Waits for a sent write's receipt, polled from a few milliseconds (ape's own wait sleeps 0.1 s when
        the first look finds nothing); a write that reverted when mined raises ``WriteRevertedError``."""
        provider = self._chain.provider
        receipt = self._await_inclusion(
            pending.tx_hash, float(provider.network.transaction_acceptance_timeout)
        )
        if _quantity(receipt.get("status", 1)) != 1:
            # Passed its dry-run, reverted when mined (the state moved in between): the dry-run on the new
            # state names the error.
            self._dry_run(pending.method, pending.call, pending.claim_ids)
            raise WriteRevertedError(
                pending.method, pending.claim_ids, f"reverted when mined ({pending.tx_hash})"
            )
        return self._sent(pending.tx_hash, receipt, pending.claim_ids)

    def _dry_run(self, method: str, call: dict[str, str], claim_ids: list[int]) -> int:
        """The gas ``call`` needs now; a revert raises ``WriteRevertedError`` naming the contract's error."""
        response = self._chain.provider.web3.provider.make_request("eth_estimateGas", [call])
        error = response.get("error")
        if error is None:
            return _quantity(response["result"])
        detail = _revert_of(error, self._errors())
        if detail is None:
            raise ChainWriteError(method, claim_ids, str(error.get("message", error)))
        raise WriteRevertedError(method, claim_ids, detail)

    def _write(self, name: str) -> WriteCodec:
        codec = self._writes.get(name)
        if codec is None:
            codec = self._writes[name] = WriteCodec.from_abi(self._contract.contract_type.abi, name)
        return codec

    def _errors(self) -> ErrorCodec:
        if self._error_codec is None:
            self._error_codec = ErrorCodec.from_abi(self._contract.contract_type.abi)
        return self._error_codec

    def _await_inclusion(self, tx_hash: str, timeout_seconds: float) -> dict[str, Any]:
        """The raw receipt (JSON-RPC), polled from 2 ms, doubling to 1 s between looks."""
        deadline = time.monotonic() + timeout_seconds
        delay = RECEIPT_FIRST_POLL_SECONDS
        while True:
            receipt = self._chain.provider.make_request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return dict(receipt)
            if time.monotonic() > deadline:
                raise TransactionNotMinedError(tx_hash, timeout_seconds)
            time.sleep(delay)
            delay = min(delay * 2, RECEIPT_MAX_POLL_SECONDS)

    def _event(self, name: str) -> EventCodec:
        codec = self._events.get(name)
        if codec is None:
            codec = self._events[name] = EventCodec.from_abi(self._contract.contract_type.abi, name)
        return codec

    def _sent(self, tx_hash: str, receipt: dict[str, Any], claim_ids: list[int]) -> SentTransaction:
        """What a mined batch did, from its raw receipt's logs (only the pool's own)."""
        address = str(self._contract.address).lower()
        logs = [log for log in receipt.get("logs") or [] if str(log.get("address", "")).lower() == address]
        skipped: list[SkippedItem] = []
        failed: list[FailedPayout] = []
        paid: list[int] = []
        skip_codecs = [self._event("VerificationSkipped"), self._event("PayoutSkipped")]
        failed_codec, paid_codec = self._event("PayoutFailed"), self._event("PayoutExecuted")
        for log in logs:
            for codec in skip_codecs:
                if (fields := codec.decode(log)) is not None:
                    skipped.append(
                        SkippedItem(claim_id=int(fields["claimId"]), reason=SkipReason(int(fields["reason"])))
                    )
            if (fields := failed_codec.decode(log)) is not None:
                failed.append(
                    FailedPayout(
                        claim_id=int(fields["claimId"]),
                        user=str(fields["user"]).lower(),
                        amount=int(fields["amount"]),
                    )
                )
            if (fields := paid_codec.decode(log)) is not None:
                paid.append(int(fields["claimId"]))
        gas = receipt.get("gasUsed")
        return SentTransaction(
            tx_hash=tx_hash,
            claim_ids=claim_ids,
            status="confirmed",
            gas_used=None if gas is None else _quantity(gas),
            skipped=skipped,
            failed_payouts=failed,
            paid=paid,
        )


def _quantity(value: Any) -> int:
    """A JSON-RPC quantity ("0x1a") or an int (some clients decode receipts)."""
    return value if isinstance(value, int) else int(str(value), 16)


def _revert_of(error: Any, errors: ErrorCodec) -> str | None:
    """What a JSON-RPC error of a dry-run says reverted: the decoded custom error (``Name(arg=value, ...)``),
    a require's reason, or the node's message; None when the error is not a revert (e.g. the node's own)."""
    if not isinstance(error, dict):
        return None
    message = str(error.get("message", ""))
    data = error.get("data")
    if isinstance(data, dict):  # some nodes nest it: {"data": {"data": "0x..."}} or {"data": {"result": ...}}
        data = data.get("data") or data.get("result")
    if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
        try:
            described = errors.describe(bytes.fromhex(data[2:]))
        except ValueError:
            described = None
        if described is not None:
            return described
        return f"ContractLogicError: {message} ({data})"
    if error.get("code") == REVERT_ERROR_CODE or "revert" in message.lower():
        return f"ContractLogicError: {message}"
    return None


def _claim_view(fields: dict[str, Any]) -> ClaimView:
    return ClaimView(
        user=str(fields["user"]).lower(),
        exchange=int(fields["exchange"]),
        status=ClaimStatus(int(fields["status"])),
        claimed_loss=int(fields["claimedLoss"]),
        payout=int(fields["payout"]),
        submitted_at=int(fields["submittedAt"]),
        decided_at=int(fields["decidedAt"]),
        reason_code=int(fields["reasonCode"]),
        payable_at=int(fields["payableAt"]),
    )


def _policy_view(fields: dict[str, Any]) -> PolicyView:
    return PolicyView(
        account_ref="0x" + bytes(fields["accountRef"]).hex(),
        coverage_limit=int(fields["coverageLimit"]),
        coverage_start=int(fields["coverageStart"]),
        coverage_end=int(fields["coverageEnd"]),
        used=int(fields["used"]),
        whitelisted=bool(fields["whitelisted"]),
        blacklisted=bool(fields["blacklisted"]),
    )
