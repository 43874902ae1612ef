"""Typed exchange failures. Each says what the keeper must do with the claim (its ``disposition``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from keeper.evidence import ReviewCause as ReviewCause  # re-exported: adapters raise with it


class Disposition(StrEnum):
    """What happens to the claim when a verification fails this way."""

    REJECT = "reject"
    """A verdict: the exchange answered and the answer rejects the claim."""
    DEFER = "defer"
    """Our side or the exchange is unavailable: keep the claim pending and try later; never reject."""
    ALERT = "alert"
    """Credentials are refused: never retried, an operator must look; the claim stays pending."""
    MANUAL_REVIEW = "manual_review"
    """The exchange answered something we cannot trust; a human reviews the saved raw body."""


class ExchangeError(Exception):
    """Base of adapter failures. Messages carry endpoint and exchange codes, never credentials."""

    disposition: Disposition = Disposition.DEFER
    error_name: str = "exchange_error"

    def __init__(self, exchange: str, endpoint: str, detail: str) -> None:
        super().__init__(f"{exchange} {endpoint}: {detail}")
        self.exchange = exchange
        self.endpoint = endpoint
        self.detail = detail


class AuthenticationError(ExchangeError):
    disposition = Disposition.ALERT
    error_name = "authentication"


class OrderNotFoundError(ExchangeError):
    """The exchange provably does not know the order: the instrument exists and the whole span the claim's
    liquidation can fall in is inside the retention of the endpoints asked. Only this is a rejection."""

    disposition = Disposition.REJECT
    error_name = "not_found"


class NeedsReviewError(ExchangeError):
    """Answered, but the answers cannot settle the claim: a person decides (never a rejection)."""

    disposition = Disposition.MANUAL_REVIEW
    error_name = "manual_review"

    def __init__(self, exchange: str, endpoint: str, cause: ReviewCause, detail: str) -> None:
        super().__init__(exchange, endpoint, detail)
        self.cause = cause


class ClockSkewError(ExchangeError):
    """The exchange refused our timestamp (OKX 50102, Binance -1021): re-sync the clock, re-sign, retry."""

    disposition = Disposition.DEFER
    error_name = "clock_skew"


class TransientError(ExchangeError):
    disposition = Disposition.DEFER
    error_name = "transient"


class RateLimitedError(TransientError):
    error_name = "rate_limited"


class BackOffError(RateLimitedError):
    """The exchange told us to stop (Binance 429 / 418 IP ban, Bybit 403): nothing is sent to ``base_url``
    before ``until`` (unix seconds), by any worker."""

    error_name = "backing_off"

    def __init__(self, exchange: str, endpoint: str, detail: str, until: float) -> None:
        super().__init__(exchange, endpoint, detail)
        self.until = until


class MalformedResponseError(ExchangeError):
    """The body is not what the wire format promises; the raw body is kept for review."""

    disposition = Disposition.MANUAL_REVIEW
    error_name = "malformed_response"
    cause = ReviewCause.MALFORMED_RESPONSE

    def __init__(self, exchange: str, endpoint: str, detail: str, raw_body: bytes) -> None:
        super().__init__(exchange, endpoint, detail)
        self.raw_body = raw_body
        self.saved_to: Path | None = None


class InconsistentEvidenceError(MalformedResponseError):
    """Two endpoints disagree (e.g. a liquidation order whose fills are ordinary trades)."""

    error_name = "inconsistent_evidence"
    cause = ReviewCause.INCONSISTENT_EVIDENCE
