"""``keeper review list|show|decide``: the manual-review desk.

A claim the keeper cannot decide on the exchange's answers alone (aged out of the exchange's history, an
instrument no longer served, no credentials for its accountRef, a fee in another asset, an unmatched
penalty, a malformed or inconsistent answer) waits in ``manual_review`` for a person. The desk reads the
keeper's store (``LG_DATABASE_PATH``); times are wall-clock.

- ``review list [--json]``: claim, exchange, cause, age, and the rough time left before the exchange purges
  the data (``purge_deadline``: the claim's earliest possible liquidation time plus the adapter's
  ``retention_ms``: 89 days on OKX, the shortest three months of its archive; 90 days on Binance).
- ``review show CLAIM_ID [--json]``: the claim, each stored exchange answer (request, status, sha256, body
  pretty-printed when JSON), why automation stopped, the purge deadline.
- ``review decide CLAIM_ID --approve PAYOUT|--reject REASON --reviewer NAME --note TEXT --network NET``:
  PAYOUT is "1200 USDT" (a token amount) or base units; REASON a ``ReasonCode`` name (ORDER_NOT_FOUND). The
  claim is rebuilt from the chain (read only) as a keeper pass does, the decision goes through
  ``policy.decide_by_person`` (the same caps as the policy's), into the audit log with the reviewer and into
  the store as ``decided``. **The keeper daemon's next pass posts it** on chain as the keeper's verdict with
  its evidence hash: the daemon stays the only writer, so no validator key is needed here.

Exit codes: 0 done; 1 the claim is not in review (or not in the store); 2 invalid input; 78 configuration.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Any, NoReturn

import click

from keeper.exchanges.answers import RawAnswer
from keeper.exchanges.registry import purge_deadline
from keeper.interface import Exchange, ReasonCode
from keeper.pipeline import NotInReviewError, Pipeline
from keeper.policy import Decision
from keeper.settings import KeeperSettings
from keeper.store import ClaimRecord, ClaimState, SqlStore, UnknownClaimError, open_store
from operator_toolkit.units import parse_amount

EXIT_OK = 0
EXIT_NOT_IN_REVIEW = 1
EXIT_INVALID_INPUT = 2
EXIT_CONFIG = 78


def review_row(claim: ClaimRecord, now: int) -> dict[str, Any]:
    exchange = Exchange(claim.exchange)
    deadline = (
        None if claim.review_earliest_ms is None else purge_deadline(exchange, claim.review_earliest_ms)
    )
    entered = claim.review_entered_at
    return {
        "claim_id": claim.claim_id,
        "exchange": exchange.slug,
        "cause": None if claim.review_cause is None else claim.review_cause.value,
        "detail": claim.review_detail,
        "entered_at": entered,
        "age_seconds": None if entered is None else max(0, now - entered),
        "purge_deadline": deadline,
        "purge_in_seconds": None if deadline is None else deadline - now,
    }


def answer_view(answer: RawAnswer) -> dict[str, Any]:
    try:
        body: Any = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        body = answer.body.decode("utf-8", errors="replace")
    return {
        "request": answer.request,
        "status": answer.status,
        "observed_at_ms": answer.observed_at_ms,
        "sha256": answer.sha256,
        "body": body,
    }


def parse_payout(text: str, decimals: int) -> int:
    """ "1,200.5 USDT" (token amount, the policy's decimals) or base units (1200500000)."""
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    parts = stripped.rsplit(" ", 1)
    if len(parts) != 2 or not parts[1].isalpha():
        raise click.BadParameter(
            f"{text!r} is neither a token amount like '1200 USDT' nor base units", param_hint="'--approve'"
        )
    return parse_amount(stripped, decimals, parts[1])


def parse_reason(text: str) -> ReasonCode:
    try:
        reason = ReasonCode[text.strip().upper()]
    except KeyError:
        names = ", ".join(
            r.name for r in ReasonCode if r not in (ReasonCode.APPROVED, ReasonCode.GUARDIAN_VETO)
        )
        raise click.BadParameter(f"{text!r} is not one of {names}", param_hint="'--reject'") from None
    if reason in (ReasonCode.APPROVED, ReasonCode.GUARDIAN_VETO):
        raise click.BadParameter(
            f"{reason.name} is not a rejection a reviewer can make", param_hint="'--reject'"
        )
    return reason


def decide_claim(
    pipeline: Pipeline,
    claim_id: int,
    *,
    approve: str | None,
    reject: str | None,
    reviewer: str,
    note: str,
) -> Decision:
    """Parses the person's choice and decides the claim through the pipeline (posted by its next pass)."""
    if (approve is None) == (reject is None):
        raise click.UsageError("give exactly one of --approve PAYOUT and --reject REASON")
    if approve is not None:
        units = parse_payout(approve, pipeline.policy.token_decimals)
        return pipeline.decide_review(claim_id, reviewer, note, approve_units=units)
    assert reject is not None
    return pipeline.decide_review(claim_id, reviewer, note, reject_reason=parse_reason(reject))


def _emit(payload: Any) -> None:
    click.echo(json.dumps(payload, sort_keys=True, separators=(",", ":")))


def _fail(error: str, detail: str, code: int) -> NoReturn:
    _emit({"error": error, "detail": detail})
    sys.exit(code)


def _store(settings: KeeperSettings) -> SqlStore:
    # A missing SQLite file is a wrong path, not a new store: the desk never creates one.
    if settings.database_url is None and not settings.database_path.exists():
        _fail("configuration", f"no keeper store at {settings.database_path}", EXIT_CONFIG)
    return open_store(settings)


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86_400)
    return f"{sign}{days}d{rest // 3600:02d}h" if days else f"{sign}{rest // 3600}h{rest % 3600 // 60:02d}m"


@click.group()
def review() -> None:
    """The manual-review desk: claims waiting for a person."""


@review.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def list_reviews(as_json: bool) -> None:
    """Claims in manual review, longest waiting first."""
    store = _store(KeeperSettings())
    now = int(time.time())
    rows = [review_row(c, now) for c in store.in_review()]
    store.close()
    if as_json:
        _emit(rows)
        return
    click.echo(f"{'claim':>7}  {'exchange':<8}  {'cause':<22}  {'age':>8}  {'purge in':>9}")
    for row in rows:
        click.echo(
            f"{row['claim_id']:>7}  {row['exchange']:<8}  {row['cause'] or '-':<22}  "
            f"{_duration(row['age_seconds']):>8}  {_duration(row['purge_in_seconds']):>9}"
        )


@review.command("show")
@click.argument("claim_id", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True)
def show(claim_id: int, as_json: bool) -> None:
    """One claim in review: the claim, the stored exchange answers, why automation stopped."""
    store = _store(KeeperSettings())
    try:
        claim = store.claim(claim_id)
    except UnknownClaimError as exc:
        _fail("unknown_claim", str(exc), EXIT_NOT_IN_REVIEW)
    view = review_row(claim, int(time.time()))
    view["state"] = claim.state.value
    view["claim"] = (
        claim.review_claim.model_dump(mode="json")
        if claim.review_claim is not None
        else claim.model_dump(
            mode="json",
            include={"claim_id", "user", "exchange", "account_ref", "order_id", "instrument", "claimed_loss"},
        )
    )
    evidence = store.evidence(claim_id)
    view["evidence"] = None if evidence is None else evidence.model_dump(mode="json")
    view["answers"] = [answer_view(a) for a in store.answers(claim_id)]
    store.close()
    if as_json:
        _emit(view)
        return
    click.echo(f"claim {claim_id} ({view['exchange']}), state {view['state']}")
    if view["cause"] is None:
        click.echo("never in manual review: the policy decided it from the exchange's answers")
    else:
        click.echo(f"why automation stopped: {view['cause']}: {view['detail']}")
    deadline = view["purge_deadline"]
    if deadline is not None:
        when = datetime.fromtimestamp(deadline, UTC).isoformat()
        click.echo(f"exchange purges the data around {when} (in {_duration(view['purge_in_seconds'])})")
    click.echo("claim: " + json.dumps(view["claim"], sort_keys=True, indent=2))
    if view["evidence"] is not None:
        click.echo("evidence: " + json.dumps(view["evidence"], sort_keys=True, indent=2))
    for index, answer in enumerate(view["answers"]):
        click.echo(
            f"--- answer {index}: {answer['request']} -> HTTP {answer['status']} sha256 {answer['sha256']}"
        )
        body = answer["body"]
        click.echo(body if isinstance(body, str) else json.dumps(body, indent=2, sort_keys=True))


@review.command("decide")
@click.argument("claim_id", type=click.IntRange(min=1))
@click.option("--approve", help='Payout: "1200 USDT" or base units (capped like the policy\'s).')
@click.option("--reject", help="A ReasonCode name, e.g. ORDER_NOT_FOUND.")
@click.option(
    "--reviewer", required=True, help="Who decides (kept in the audit log and the evidence record)."
)
@click.option("--note", required=True, help="Why (kept in the evidence record).")
@click.option("--network", required=True, help="ape network choice, to read the claim's term from the chain.")
@click.option("--contract", "address", default=None, help="Proxy address (else LG_CONTRACT_ADDRESS / ...).")
def decide(
    claim_id: int,
    approve: str | None,
    reject: str | None,
    reviewer: str,
    note: str,
    network: str,
    address: str | None,
) -> None:
    """Decide a claim in review; the keeper's next pass posts the verdict."""
    from keeper.app import ConfigurationError, build_pipeline, load_settings

    if not reviewer.strip() or not note.strip():
        _fail("invalid_input", "--reviewer and --note must not be blank", EXIT_INVALID_INPUT)
    try:
        settings, contract_address = load_settings(address, network)
    except ConfigurationError as exc:
        _fail("configuration", str(exc), EXIT_CONFIG)
    # Everything that needs no chain is checked first: a typo should not wait for ape to connect.
    try:
        if (approve is None) == (reject is None):
            raise click.UsageError("give exactly one of --approve PAYOUT and --reject REASON")
        if approve is not None:
            parse_payout(approve, settings.token_decimals)
        else:
            assert reject is not None
            parse_reason(reject)
    except click.ClickException as exc:
        _fail("invalid_input", exc.format_message(), EXIT_INVALID_INPUT)
    store = _store(settings)
    try:
        state = store.claim(claim_id).state
    except UnknownClaimError as exc:
        _fail("not_in_review", str(exc), EXIT_NOT_IN_REVIEW)
    finally:
        store.close()
    if state is not ClaimState.MANUAL_REVIEW:
        _fail("not_in_review", f"claim {claim_id} is {state.value}, not in manual review", EXIT_NOT_IN_REVIEW)
    from ape import chain, networks, project

    with networks.parse_network_choice(network):
        contract = project.ILeverageGuard.at(contract_address)
        pipeline = build_pipeline(settings, contract, None, chain)  # read only: no validator key
        try:
            decision = decide_claim(
                pipeline, claim_id, approve=approve, reject=reject, reviewer=reviewer, note=note
            )
        except (NotInReviewError, UnknownClaimError) as exc:
            _fail("not_in_review", str(exc), EXIT_NOT_IN_REVIEW)
        except click.ClickException as exc:
            _fail("invalid_input", exc.format_message(), EXIT_INVALID_INPUT)
        except ValueError as exc:
            _fail("invalid_input", str(exc), EXIT_INVALID_INPUT)
    _emit(
        {"claim_id": claim_id, "decision": decision.model_dump(mode="json"), "posted_by": "next keeper pass"}
    )
