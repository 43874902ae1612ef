"""Typed exchange failures. Each says what the keeper must do with the claim (its ``disposition``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


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
    disposition = Disposition.REJECT
    error_name = "not_found"


class TransientError(ExchangeError):
    disposition = Disposition.DEFER
    error_name = "transient"


class RateLimitedError(TransientError):
    error_name = "rate_limited"


class MalformedResponseError(ExchangeError):
    """The body is not what the wire format promises; the raw body is kept for review."""

    disposition = Disposition.MANUAL_REVIEW
    error_name = "malformed_response"

    def __init__(self, exchange: str, endpoint: str, detail: str, raw_body: bytes) -> None:
        super().__init__(exchange, endpoint, detail)
        self.raw_body = raw_body
        self.saved_to: Path | None = None


class InconsistentEvidenceError(MalformedResponseError):
    """Two endpoints disagree (e.g. a liquidation order whose fills are ordinary trades)."""

    error_name = "inconsistent_evidence"
