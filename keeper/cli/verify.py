"""``keeper verify``: verify one order against its exchange and print one JSON object on the last line.

Exit codes: 0 evidence obtained; 1 rejected without evidence (not_found, unknown_account, account_mismatch);
2 invalid input; 3 needs a person (``{"error": "manual_review", "cause": ...}``: aged out of the exchange's
history, instrument not live, malformed or inconsistent answers, a fee in another asset, ...); 75 deferred
(transient, rate limited: try again); 77 authentication refused (alert); 78 configuration error.

An unknown account prints as before (``error`` unknown_account, exit 1, with ``--claimed-loss`` a decision
rejecting with UNKNOWN_ACCOUNT), although the keeper daemon sends such a claim to a person instead. An
unsupported settlement currency is evidence (exit 0) whose decision rejects with UNSUPPORTED_SETTLEMENT.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from keeper.evidence import ClaimInput
from keeper.exchanges.errors import Disposition
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.interface import Exchange, ReasonCode
from keeper.policy import PolicyParams, ReviewNeeded, decision_for, reject_without_evidence
from keeper.settings import AccountsFileError, KeeperSettings
from keeper.verification import OutcomeStatus, VerificationOutcome, VerificationRequest
from operator_toolkit.units import parse_amount

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_INVALID_INPUT = 2
EXIT_MANUAL_REVIEW = 3
EXIT_DEFERRED = 75
EXIT_AUTH = 77
EXIT_CONFIG = 78
ZERO_ADDRESS = "0x" + "0" * 40
_SYMBOL = re.compile(r"\s([A-Za-z][A-Za-z0-9.]*)$")


def _emit(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, sort_keys=True, separators=(",", ":")))


def _fail(error: str, detail: str, code: int) -> NoReturn:
    _emit({"error": error, "detail": detail})
    sys.exit(code)


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def _base_units(text: str | None, decimals: int, option: str) -> int | None:
    """`--claimed-loss`/`--remaining-coverage`: "1,200.5 USDT" is a token amount
    (operator_toolkit.units.parse_amount, with the policy's token decimals); a bare integer is base units, as
    the evidence and the chain count them."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.isdigit():
        return int(stripped)
    symbol = _SYMBOL.search(stripped)
    if symbol is None:
        _fail(
            "invalid_input",
            f"{option} {text!r} is neither a token amount like '1200 USDT' nor base units like 1200000000",
            EXIT_INVALID_INPUT,
        )
    try:
        return parse_amount(stripped, decimals, symbol.group(1))
    except click.BadParameter as bad:
        _fail("invalid_input", f"{option} {bad.message}", EXIT_INVALID_INPUT)


def _policy(settings: KeeperSettings, overrides: dict[str, Any]) -> PolicyParams:
    base = settings.policy().model_dump()
    base.update({k: v for k, v in overrides.items() if v is not None})
    return PolicyParams.model_validate(base)


def _exit_code(outcome: VerificationOutcome) -> int:
    if outcome.status is OutcomeStatus.VERIFIED:
        return EXIT_OK
    if outcome.status is OutcomeStatus.REJECTED:
        return EXIT_REJECTED
    if outcome.status is OutcomeStatus.NEEDS_REVIEW:
        return EXIT_MANUAL_REVIEW
    return EXIT_AUTH if outcome.disposition is Disposition.ALERT else EXIT_DEFERRED


@click.command("verify")
@click.option("--exchange", type=click.Choice([e.slug for e in Exchange]), required=True)
@click.option("--order-id", required=True)
@click.option(
    "--instrument", required=True, help="OKX instId (BTC-USDT-SWAP), Binance or Bybit symbol (BTCUSDT)."
)
@click.option("--account-ref", required=True, help="0x + 64 hex digits, the claim's accountRef.")
@click.option(
    "--claimed-loss",
    help='"1200 USDT" (a token amount, as the ape scripts take it) or base units (1200000000); with it the '
    "decision is printed.",
)
@click.option("--submitted-at", type=click.IntRange(min=0), help="Unix seconds; default now.")
@click.option("--coverage-start", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--coverage-end", type=click.IntRange(min=0), help="Unix seconds; default --submitted-at.")
@click.option("--remaining-coverage", help='Like --claimed-loss ("9000 USDT" or base units); default it.')
@click.option("--claim-id", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--user", default=ZERO_ADDRESS, show_default=True)
@click.option("--coverage-ratio", help="Override LG_COVERAGE_RATIO (decimal 0..1).")
@click.option("--claim-window-seconds", type=click.IntRange(min=0))
@click.option("--cover-adl/--no-cover-adl", default=None)
@click.option("--max-payout-per-claim", type=click.IntRange(min=0))
@click.option("--token-decimals", type=click.IntRange(0, 36))
@click.option("--policy-version")
@click.option("-v", "--verbose", is_flag=True, help="Log requests to stderr.")
def verify(
    exchange: str,
    order_id: str,
    instrument: str,
    account_ref: str,
    claimed_loss: str | None,
    submitted_at: int | None,
    coverage_start: int,
    coverage_end: int | None,
    remaining_coverage: str | None,
    claim_id: int,
    user: str,
    coverage_ratio: str | None,
    claim_window_seconds: int | None,
    cover_adl: bool | None,
    max_payout_per_claim: int | None,
    token_decimals: int | None,
    policy_version: str | None,
    verbose: bool,
) -> None:
    """Verify one order; the last stdout line is a JSON object with the evidence (and decision)."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr)
    try:
        request = VerificationRequest(
            exchange=Exchange.from_slug(exchange),
            account_ref=account_ref,
            order_id=order_id,
            instrument=instrument,
        )
    except ValidationError as exc:
        _fail("invalid_input", _describe(exc), EXIT_INVALID_INPUT)
    try:
        ratio = Decimal(coverage_ratio) if coverage_ratio is not None else None
    except InvalidOperation:
        _fail("invalid_input", f"--coverage-ratio is not a decimal: {coverage_ratio!r}", EXIT_INVALID_INPUT)

    try:
        settings = KeeperSettings()
        accounts = settings.account_registry()
        policy = _policy(
            settings,
            {
                "coverage_ratio": ratio,
                "claim_window_seconds": claim_window_seconds,
                "cover_adl": cover_adl,
                "max_payout_per_claim": max_payout_per_claim,
                "token_decimals": token_decimals,
                "policy_version": policy_version,
            },
        )
    except (AccountsFileError, ValidationError) as exc:
        _fail("configuration", str(exc), EXIT_CONFIG)

    # The span a claim filed at --submitted-at (default now) can be about: the adapters tell "does not exist"
    # from "no longer kept" against it, as they do for the daemon's claims.
    filed_at = submitted_at if submitted_at is not None else int(time.time())
    request = VerificationRequest.model_validate(
        {
            **request.model_dump(),
            "not_before_ms": max(0, filed_at - policy.claim_window_seconds) * 1000,
            "not_after_ms": filed_at * 1000,
        }
    )
    outcome = Verifier(accounts, AdapterRegistry(settings), settings.verify_workers).verify(request)
    payload: dict[str, Any] = outcome.model_dump(mode="json", exclude_none=True)
    code = _exit_code(outcome)
    if outcome.status is OutcomeStatus.NEEDS_REVIEW:
        payload.update(error="manual_review", cause=str(outcome.review_cause), exchange_error=outcome.error)
    loss = _base_units(claimed_loss, policy.token_decimals, "--claimed-loss")
    remaining = _base_units(remaining_coverage, policy.token_decimals, "--remaining-coverage")
    if loss is not None and outcome.status is not OutcomeStatus.DEFERRED:
        now = filed_at
        try:
            claim = ClaimInput(
                claim_id=claim_id,
                user=user,
                exchange=request.exchange,
                account_ref=request.account_ref,
                order_id=order_id,
                instrument=instrument,
                claimed_loss=loss,
                submitted_at=now,
                coverage_start=coverage_start,
                coverage_end=coverage_end if coverage_end is not None else now,
                remaining_coverage=remaining if remaining is not None else loss,
            )
        except ValidationError as exc:
            _fail("invalid_input", _describe(exc), EXIT_INVALID_INPUT)
        decision = decision_for(claim, policy, outcome)
        if outcome.reason_code is ReasonCode.UNKNOWN_ACCOUNT:
            # The command's contract: an unknown account prints the rejection it always did (the daemon
            # sends the claim to a person instead; see decision_for).
            decision = reject_without_evidence(claim, policy, ReasonCode.UNKNOWN_ACCOUNT)
        if isinstance(decision, ReviewNeeded):
            payload.update(error="manual_review", cause=decision.cause.value, detail=decision.detail)
            payload["claim"] = claim.model_dump(mode="json")
            code = EXIT_MANUAL_REVIEW
        elif decision is not None:
            payload["claim"] = claim.model_dump(mode="json")
            payload["decision"] = decision.model_dump(mode="json")
            payload["policy_version"] = policy.policy_version
    _emit(payload)
    sys.exit(code)
