"""Each page's view model, built by a pure function from what was read: what a page shows is tested here,
without a server or a browser. Amounts are exact token units (no float); times are chain seconds."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from keeper.console.snapshots import (
    ClaimDetailSnapshot,
    ClaimRow,
    KeeperHealth,
    KeeperSnapshot,
    PoolSnapshot,
    ProposalSnapshot,
    ProposalsSnapshot,
)
from keeper.evidence_bundle import CheckReport
from keeper.interface import ClaimStatus, Exchange, ReasonCode
from keeper.store import ClaimState
from operator_toolkit.governance import OPEN_STATES, ProposalState
from operator_toolkit.units import format_duration, format_timestamp, units_text

# The contract's PAUSE_* bits (LeverageGuardBase), in bit order.
PAUSE_BITS = (("claims", 1), ("verifications", 2), ("payouts", 4), ("withdrawals", 8), ("deposits", 16))
ACCOUNT = "<your-account>"
"""The placeholder in every command shown: the console knows no key, the operator picks the alias."""


class _Page(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Usage(_Page):
    label: str
    used: str
    limit: str
    percent: int
    """Of the limit used today, whole percent, capped at 100 (0 with no limit)."""


class PauseBit(_Page):
    name: str
    paused: bool
    command: str


class PoolPage(_Page):
    address: str
    asset: str
    total: str
    reserved: str
    free: str
    today: list[Usage]
    pause: list[PauseBit]
    parameters: list[tuple[str, str]]
    signers: list[str]
    threshold: int


def amount(value: int, decimals: int) -> str:
    return units_text(value, decimals, grouping=True)


def _percent(used: int, limit: int) -> int:
    return 0 if limit <= 0 else min(100, used * 100 // limit)


def pool_page(pool: PoolSnapshot, decimals: int) -> PoolPage:
    usage = [
        ("Withdrawals today", pool.withdrawn_today, pool.daily_withdrawal_limit),
        ("Payouts today", pool.paid_out_today, pool.daily_payout_limit),
        ("Approvals today", pool.approved_today, pool.daily_approval_limit),
    ]
    pause = []
    for name, bit in PAUSE_BITS:
        paused = bool(pool.paused_flags & bit)
        # Pausing is the guardian's fast path; unpausing is a governance proposal.
        command = (
            f"ape run propose unpause {name} --account {ACCOUNT}"
            if paused
            else f"ape run pause {name} --account {ACCOUNT}"
        )
        pause.append(PauseBit(name=name, paused=paused, command=command))
    return PoolPage(
        address=pool.address,
        asset=pool.asset,
        total=amount(pool.total_assets, decimals),
        reserved=amount(pool.reserved, decimals),
        free=amount(pool.free, decimals),
        today=[
            Usage(
                label=label,
                used=amount(used, decimals),
                limit=amount(limit, decimals),
                percent=_percent(used, limit),
            )
            for label, used, limit in usage
        ],
        pause=pause,
        parameters=[
            ("Max payout per claim", amount(pool.max_payout_per_claim, decimals)),
            ("Max coverage limit", amount(pool.max_coverage_limit, decimals)),
            ("Challenge period", format_duration(pool.challenge_period)),
            ("Claim grace period", format_duration(pool.claim_grace_period)),
            ("Execution delay", format_duration(pool.execution_delay)),
            ("Proposal lifetime", format_duration(pool.proposal_lifetime)),
        ],
        signers=pool.signers,
        threshold=pool.threshold,
    )


def time_left(seconds: int) -> str:
    """'2h 05m 09s', '4m 01s', '9s': the same text the page's countdown script writes each second."""
    seconds = max(seconds, 0)
    hours, rest = divmod(seconds, 3_600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


class ClaimLine(_Page):
    claim_id: int
    exchange: str
    trader: str
    claimed_loss: str
    payout: str
    status: str
    """The on-chain status (``Approved``...), or ``unknown`` when the chain was not read."""
    keeper_state: str
    in_window: bool
    """Approved, and its challenge window (veto before ``payable_at``) still open."""
    payable_at: int
    time_left: str


class ClaimFilter(_Page):
    status: str | None = None
    exchange: str | None = None
    trader: str | None = None


class ClaimsPage(_Page):
    now: int
    filter: ClaimFilter
    in_window: list[ClaimLine]
    """Approved claims inside their challenge window, least time left first."""
    others: list[ClaimLine]
    """Every other claim that passes the filter, newest first."""
    statuses: list[str]
    exchanges: list[str]


def _exchange_slug(exchange: int) -> str:
    try:
        return Exchange(exchange).slug
    except ValueError:
        return str(exchange)


def claim_line(row: ClaimRow, now: int, decimals: int) -> ClaimLine:
    view = row.chain
    status = view.status.label if view is not None else "unknown"
    in_window = view is not None and view.status is ClaimStatus.APPROVED and view.payable_at > now
    payable_at = view.payable_at if view is not None else 0
    return ClaimLine(
        claim_id=row.record.claim_id,
        exchange=_exchange_slug(row.record.exchange),
        trader=row.record.user,
        claimed_loss=amount(row.record.claimed_loss, decimals),
        payout=amount(view.payout, decimals) if view is not None else "",
        status=status,
        keeper_state=row.record.state.value,
        in_window=in_window,
        payable_at=payable_at,
        time_left=time_left(payable_at - now) if in_window else "",
    )


def _passes(line: ClaimLine, wanted: ClaimFilter) -> bool:
    return (
        (wanted.status is None or line.status.lower() == wanted.status.lower())
        and (wanted.exchange is None or line.exchange == wanted.exchange.lower())
        and (wanted.trader is None or line.trader == wanted.trader.lower())
    )


def claims_page(rows: Sequence[ClaimRow], now: int, decimals: int, wanted: ClaimFilter) -> ClaimsPage:
    lines = [line for line in (claim_line(row, now, decimals) for row in rows) if _passes(line, wanted)]
    return ClaimsPage(
        now=now,
        filter=wanted,
        in_window=sorted((line for line in lines if line.in_window), key=lambda line: line.payable_at),
        others=sorted((line for line in lines if not line.in_window), key=lambda line: -line.claim_id),
        statuses=[status.label for status in ClaimStatus if status is not ClaimStatus.NONE],
        exchanges=[exchange.slug for exchange in Exchange],
    )


class ClaimPage(_Page):
    line: ClaimLine
    order_id: str
    instrument: str
    account_ref: str
    verdict: str
    reason: str
    evidence_hash: str
    last_error: str | None
    review_cause: str | None
    commands: list[str]


def claim_page(detail: ClaimDetailSnapshot, now: int, decimals: int) -> ClaimPage:
    line = claim_line(detail.row, now, decimals)
    record = detail.row.record
    decision = detail.decision.decision if detail.decision is not None else None
    claim_id = record.claim_id
    commands = [
        f"python -m keeper evidence export {claim_id} > claim-{claim_id}.json",
        f"python -m keeper evidence check claim-{claim_id}.json --rpc <node-url> --guard <pool-address>",
    ]
    if line.in_window:
        commands.append(f"ape run propose cancel-claim {claim_id} --reason guardian_veto --account {ACCOUNT}")
    if record.state is ClaimState.MANUAL_REVIEW:
        commands.append(f"python -m keeper review show {claim_id}")
    return ClaimPage(
        line=line,
        order_id=record.order_id,
        instrument=record.instrument,
        account_ref=record.account_ref,
        verdict="none yet" if decision is None else ("approved" if decision.approved else "rejected"),
        reason="" if decision is None else ReasonCode(decision.reason_code).name.lower(),
        evidence_hash="" if decision is None else decision.evidence_hash,
        last_error=record.last_error,
        review_cause=None if record.review_cause is None else str(record.review_cause),
        commands=commands,
    )


class ReviewLine(_Page):
    claim_id: int
    cause: str
    age: str
    command: str


class TxLine(_Page):
    tx_hash: str
    kind: str
    claims: str
    status: str
    gas_used: str


class HealthLine(_Page):
    state: str
    """``healthy``, ``unhealthy`` or ``not answering``."""
    url: str
    problems: list[str]
    last_pass: str
    """``2026-12-02 16:40:00 UTC (12s ago)``, or ``unknown``."""
    passes: str
    pass_errors: str


def health_line(health: KeeperHealth) -> HealthLine:
    state = "not answering" if not health.reachable else "healthy" if health.ok else "unhealthy"
    last_pass = "unknown"
    if health.last_pass_at is not None:
        ago = time_left(round(health.asked_at - health.last_pass_at))
        last_pass = f"{format_timestamp(int(health.last_pass_at))} ({ago} ago)"
    return HealthLine(
        state=state,
        url=health.url,
        problems=health.problems,
        last_pass=last_pass,
        passes="unknown" if health.passes is None else str(health.passes),
        pass_errors="unknown" if health.pass_errors is None else str(health.pass_errors),
    )


class KeeperPage(_Page):
    health: HealthLine | None
    """None: the console was not told where the keeper serves its health."""
    head: int
    cursor: str
    lag: str
    """Blocks between the chain head and the keeper's cursor ('unknown' before its first pass)."""
    counts: list[tuple[str, int]]
    review: list[ReviewLine]
    """Oldest first: the claims waiting longest for a person."""
    transactions: list[TxLine]
    """Newest first."""


RECENT_TRANSACTIONS = 20


def keeper_page(keeper: KeeperSnapshot, now: int) -> KeeperPage:
    review = sorted(keeper.in_review, key=lambda record: (record.review_entered_at or now, record.claim_id))
    return KeeperPage(
        health=None if keeper.health is None else health_line(keeper.health),
        head=keeper.head,
        cursor="none" if keeper.cursor is None else str(keeper.cursor),
        lag="unknown" if keeper.cursor is None else str(max(keeper.head - keeper.cursor, 0)),
        counts=[(state.value, keeper.counts.get(state.value, 0)) for state in ClaimState],
        review=[
            ReviewLine(
                claim_id=record.claim_id,
                cause="" if record.review_cause is None else str(record.review_cause),
                age=time_left(now - (record.review_entered_at or now)),
                command=(
                    f"python -m keeper review decide {record.claim_id} --approve PAYOUT|--reject REASON "
                    "--reviewer NAME --note TEXT --network NETWORK"
                ),
            )
            for record in review
        ],
        transactions=[
            TxLine(
                tx_hash=tx.tx_hash,
                kind=tx.kind.value,
                claims=", ".join(str(claim_id) for claim_id in tx.claim_ids),
                status=tx.status,
                gas_used="" if tx.gas_used is None else f"{tx.gas_used:,}",
            )
            for tx in list(reversed(keeper.transactions))[:RECENT_TRANSACTIONS]
        ],
    )


class CheckLine(_Page):
    step: str
    ok: bool
    detail: str


class CheckPage(_Page):
    claim_id: int
    ok: bool
    summary: str
    steps: list[CheckLine]


def check_page(claim_id: int, report: CheckReport) -> CheckPage:
    """The evidence re-check as ``keeper evidence check`` prints it: each step, then agree or which failed."""
    summary = "every step agrees" if report.ok else "disagrees: " + ", ".join(report.failed)
    return CheckPage(
        claim_id=claim_id,
        ok=report.ok,
        summary=summary,
        steps=[CheckLine(step=step.step, ok=step.ok, detail=step.detail) for step in report.steps],
    )


class ProposalLine(_Page):
    proposal_id: int
    actions: list[str]
    proposer: str
    confirmations: str
    """``x/threshold``."""
    confirmed_by: list[str]
    state: str
    ready_at: str
    """The UTC time it becomes (or became) executable, or ``not scheduled``."""
    seconds_left: int | None
    """Until ``readyAt``, for a scheduled proposal (the page counts it down); None otherwise."""
    expires_at: str
    data_hash: str
    effect: list[tuple[str, str, str]]
    refusal: str | None
    commands: list[str]


class ProposalsPage(_Page):
    now: int
    open: list[ProposalLine]
    """Pending, unscheduled, scheduled and ready proposals, oldest first (the order they were proposed)."""
    closed: list[ProposalLine]
    """Executed, cancelled and expired ones among those read, newest first."""
    scanned: str
    """Which ids were read, e.g. ``#1-#25 of 25``."""


def _proposal_commands(proposal: ProposalSnapshot, state: ProposalState) -> list[str]:
    """What a signer or guardian runs next; ``show`` (raw calldata, re-simulated) for every open one."""
    pid = proposal.proposal_id
    command = f"ape run proposals {{}} {pid} --account {ACCOUNT}"
    if state not in OPEN_STATES:
        return []
    commands = [f"ape run proposals show {pid}"]
    if state is ProposalState.PENDING:
        commands.append(command.format("confirm"))
        if proposal.confirmed_by:
            commands.append(command.format("revoke"))
    elif state is ProposalState.UNSCHEDULED:
        commands.append(command.format("schedule"))
    elif state is ProposalState.READY:
        commands.append(command.format("execute"))
    # A guardian may cancel during the delay; the proposer while it is open.
    if state is not ProposalState.READY:
        commands.append(command.format("cancel"))
    return commands


def proposal_line(proposal: ProposalSnapshot, now: int) -> ProposalLine:
    state = ProposalState(proposal.state)
    scheduled = state is ProposalState.SCHEDULED
    return ProposalLine(
        proposal_id=proposal.proposal_id,
        actions=proposal.actions,
        proposer=proposal.proposer,
        confirmations=f"{proposal.confirmations}/{proposal.threshold}",
        confirmed_by=proposal.confirmed_by,
        state=state.value,
        ready_at=format_timestamp(proposal.ready_at) if proposal.ready_at else "not scheduled",
        seconds_left=proposal.ready_at - now if scheduled else None,
        expires_at=format_timestamp(proposal.expires_at),
        data_hash=proposal.data_hash,
        effect=proposal.effect,
        refusal=proposal.refusal,
        commands=_proposal_commands(proposal, state),
    )


def proposals_page(snapshot: ProposalsSnapshot) -> ProposalsPage:
    lines = [proposal_line(proposal, snapshot.now) for proposal in snapshot.proposals]
    ids = [line.proposal_id for line in lines]
    scanned = f"#{ids[0]}-#{ids[-1]} of {snapshot.count}" if ids else "none yet"
    return ProposalsPage(
        now=snapshot.now,
        open=[line for line in lines if ProposalState(line.state) in OPEN_STATES],
        closed=[line for line in reversed(lines) if ProposalState(line.state) not in OPEN_STATES],
        scanned=scanned,
    )
