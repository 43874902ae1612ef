"""HTTP transport shared by the adapters of one exchange: one Session, timeouts, retries, limiter."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from keeper.exchanges.errors import MalformedResponseError, RateLimitedError, TransientError
from keeper.limits import EndpointLimiter, LimiterTimeoutError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class TransportConfig:
    base_url: str
    connect_timeout_seconds: float = 3.05
    read_timeout_seconds: float = 10.0
    retries: int = 3
    backoff_factor: float = 0.25
    backoff_jitter: float = 0.1
    backoff_max_seconds: float = 5.0
    pool_size: int = 8
    malformed_dump_dir: Path | None = None


@dataclass(frozen=True)
class RawResponse:
    endpoint: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def build_retry(config: TransportConfig) -> Retry:
    """Retry idempotent GETs on 429/5xx and connection errors, with jittered backoff and Retry-After."""
    return Retry(
        total=config.retries,
        connect=config.retries,
        read=config.retries,
        status=config.retries,
        other=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=config.backoff_factor,
        backoff_jitter=config.backoff_jitter,
        backoff_max=config.backoff_max_seconds,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def build_session(config: TransportConfig) -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=build_retry(config), pool_connections=2, pool_maxsize=config.pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class HttpTransport:
    """GETs pre-signed requests for one exchange; adapters interpret the bodies."""

    def __init__(self, exchange: str, config: TransportConfig, limiter: EndpointLimiter) -> None:
        self.exchange = exchange
        self.config = config
        self.limiter = limiter
        self.session = build_session(config)

    def __repr__(self) -> str:
        return f"HttpTransport({self.exchange!r}, base_url={self.config.base_url!r})"

    def get(
        self,
        path: str,
        query: str,
        headers: Mapping[str, str],
        limiter_key: str,
        weight: int = 1,
    ) -> RawResponse:
        """GET ``path?query`` exactly as given (the signature covers these bytes)."""
        endpoint = f"GET {path}"
        try:
            self.limiter.acquire(limiter_key, weight)
        except LimiterTimeoutError as exc:
            raise RateLimitedError(self.exchange, endpoint, f"client-side limiter: {exc}") from None
        url = f"{self.config.base_url}{path}" + (f"?{query}" if query else "")
        try:
            response = self.session.get(
                url,
                headers=dict(headers),
                timeout=(self.config.connect_timeout_seconds, self.config.read_timeout_seconds),
                allow_redirects=False,
            )
        except requests.exceptions.RetryError as exc:
            raise TransientError(self.exchange, endpoint, f"retries exhausted: {_reason(exc)}") from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise TransientError(self.exchange, endpoint, f"{type(exc).__name__}: {_reason(exc)}") from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise TransientError(self.exchange, endpoint, f"truncated transfer: {_reason(exc)}") from None
        raw = RawResponse(endpoint, response.status_code, dict(response.headers), response.content)
        log.debug("%s %s -> HTTP %s (%d bytes)", self.exchange, endpoint, raw.status, len(raw.body))
        return raw

    def save_malformed(self, error: MalformedResponseError) -> MalformedResponseError:
        """Keep the raw body next to the claim's review item; the file name is the body's sha256."""
        directory = self.config.malformed_dump_dir
        if directory is None:
            return error
        directory.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256(error.raw_body).hexdigest()
        target = (
            directory
            / f"{self.exchange}-{error.endpoint.split()[-1].strip('/').replace('/', '_')}-{digest}.body"
        )
        target.write_bytes(error.raw_body)
        error.saved_to = target
        log.warning("%s: malformed response saved to %s", error, target)
        return error


def _reason(exc: Exception) -> str:
    # Only the exception type: requests' own message repeats the full URL, query included.
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None)
    return type(reason).__name__ if reason is not None else type(inner).__name__
