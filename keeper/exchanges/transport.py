"""HTTP transport shared by the adapters of one exchange: one Session, timeouts, re-signed retries, the
limiter, the exchange's clock and the base URL's back-off."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

from keeper import tracing
from keeper.exchanges.clock import ServerClock
from keeper.exchanges.errors import (
    BackOffError,
    ClockSkewError,
    MalformedResponseError,
    RateLimitedError,
    TransientError,
)
from keeper.exchanges.limits import EndpointLimiter, LimiterTimeoutError, SharedBackOff

log = logging.getLogger(__name__)

# Answered again after a pause, re-signed: the server failed or (OKX, limits per user) asked us to slow down.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

SignRequest = Callable[[str], tuple[str, Mapping[str, str]]]
"""``sign(unsigned_query) -> (query as sent, headers)``: called again for every attempt, so each retry carries
a fresh timestamp and signature."""


@dataclass(frozen=True)
class TimeSource:
    """The exchange's public time endpoint: an unsigned GET whose body ``parse`` turns into unix ms."""

    path: str
    parse: Callable[[bytes], int]
    limiter_key: str
    weight: int = 1


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
    time_source: TimeSource | None = None
    """Where the clock offset is measured; None: sign with the local clock, never sync."""
    skew_detector: Callable[[RawResponse], bool] | None = None
    """True for an answer that refuses our timestamp (OKX 401 + 50102, Binance 400 + -1021)."""
    backoff_statuses: frozenset[int] = frozenset()
    """Statuses that close the base URL for everyone instead of being retried (Binance 429, 418)."""
    ban_until: Callable[[RawResponse], float | None] | None = None
    """The end of an IP ban named in the body (unix seconds), when the exchange names it."""
    ip_limiter_key: str | None = None
    """A limiter key every request takes a unit of as well as its own (Bybit: 600 requests / 5 s per IP,
    over which the IP is banned for 10 minutes)."""
    skew_alert_after: int = 3
    ban_default_seconds: float = 120.0
    ban_max_seconds: float = 3 * 86_400.0


@dataclass(frozen=True)
class RawResponse:
    endpoint: str
    """'GET /path', for messages."""
    status: int
    headers: Mapping[str, str]
    """Case-insensitive (``requests``' own mapping): exchanges do not agree on header case."""
    body: bytes
    request: str = ""
    """'GET /path?query' before signing: the key under which the answer is recorded and replayed."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True)
class SharedAnswer:
    """A reference-data answer one adapter read and the exchange's other adapters may reuse."""

    response: RawResponse
    observed_at_ms: int


class SharedAnswers:
    """Answers about reference data (OKX ``public/instruments``: an instrument's settlement currency), kept
    per key (the unsigned request, prefixed by an account for private data) for every adapter of one
    exchange, so a burst of claims on one instrument asks once instead of once per claim against an IP-wide
    limit. Only what the adapter marks as reusable is kept; a reader names how recent an answer must be
    (``fresh_after_ms``)."""

    def __init__(self, max_entries: int = 4_096) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self._max_entries = max_entries
        self._entries: dict[str, SharedAnswer] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: str, fresh_after_ms: int) -> SharedAnswer | None:
        """The answer kept under ``key`` if it was observed at or after ``fresh_after_ms``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.observed_at_ms < fresh_after_ms:
                return None
            self.hits += 1
            return entry

    def put(self, key: str, response: RawResponse, observed_at_ms: int) -> None:
        with self._lock:
            if key not in self._entries and len(self._entries) >= self._max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest entry
            self._entries[key] = SharedAnswer(response, observed_at_ms)


def build_retry(config: TransportConfig) -> Retry:
    """The retry budget and its jittered exponential back-off arithmetic (urllib3's), used by the transport's
    own loop: urllib3 itself never resends, because a resent request would carry the first attempt's
    timestamp and signature."""
    return Retry(
        total=config.retries,
        allowed_methods=frozenset({"GET"}),
        backoff_factor=config.backoff_factor,
        backoff_jitter=config.backoff_jitter,
        backoff_max=config.backoff_max_seconds,
        raise_on_status=False,
    )


def build_session(config: TransportConfig) -> requests.Session:
    session = requests.Session()
    # No retries inside urllib3 (connection errors included): every attempt goes back through ``sign``.
    adapter = HTTPAdapter(
        max_retries=Retry(total=0, read=False, redirect=False, raise_on_status=False),
        pool_connections=2,
        pool_maxsize=config.pool_size,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # What requests reads from the environment on every request (proxies for this URL, NO_PROXY included,
    # and a CA bundle), read once: the per-request look-ups were a sixth of each request's CPU at crash-day
    # rates. Set the proxy variables before the keeper starts.
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(config.base_url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110 10.2.3); None if absent
    or unreadable."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - now)


class _RetryableError(Exception):
    """An attempt failed in a way another attempt may not (connection refused, timeout)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class HttpTransport:
    """GETs requests for one exchange, signing each attempt; adapters interpret the bodies.

    It owns what every adapter of the exchange shares: the Session, the limiter, the exchange's clock
    (``clock``, synced lazily before the first signed request and again after a refused timestamp) and the
    base URL's back-off (``backoff``: after a Binance 429 / 418 nothing is sent, by any worker, until it
    ends).
    """

    def __init__(
        self,
        exchange: str,
        config: TransportConfig,
        limiter: EndpointLimiter,
        *,
        clock: ServerClock | None = None,
        backoff: SharedBackOff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.exchange = exchange
        self.config = config
        self.limiter = limiter
        self.session = build_session(config)
        reader = self.read_server_time if config.time_source is not None else None
        self.clock = clock or ServerClock(exchange, reader, alert_after=config.skew_alert_after)
        self.backoff = backoff or SharedBackOff(config.ban_default_seconds, config.ban_max_seconds)
        self.shared = SharedAnswers()
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"HttpTransport({self.exchange!r}, base_url={self.config.base_url!r})"

    def get(
        self,
        path: str,
        query: str,
        sign: SignRequest,
        limiter_key: str,
        weight: int = 1,
    ) -> RawResponse:
        """GET ``path?<sign(query)>`` exactly as signed (the signature covers these bytes).

        A refused timestamp re-syncs the clock and is re-signed once; refused again, ``ClockSkewError``.
        Raises ``BackOffError`` without sending while the base URL is closed.
        """
        endpoint = f"GET {path}"
        detector = self.config.skew_detector
        for attempt in range(2):
            raw = self._attempts(path, query, sign, limiter_key, weight)
            if detector is None or not detector(raw):
                self.clock.record_accepted()
                return raw
            self.clock.record_skew_error()
            if attempt == 0 and self.clock.can_sync:
                log.warning(
                    "%s %s refused our timestamp (offset %+.0f ms): re-syncing the clock",
                    self.exchange,
                    endpoint,
                    self.clock.offset_ms,
                )
                self.clock.sync()
        raise ClockSkewError(
            self.exchange,
            endpoint,
            f"timestamp refused again after a clock re-sync (offset {self.clock.offset_ms:+.0f} ms, "
            f"HTTP {raw.status})",
        )

    def read_server_time(self) -> int:
        """The exchange's clock, unix ms (an unsigned GET: not an answer about any claim, never recorded)."""
        source = self.config.time_source
        if source is None:
            raise RuntimeError(f"{self.exchange}: no time source configured")
        raw = self._attempts(source.path, "", None, source.limiter_key, source.weight)
        if raw.status != 200:
            raise TransientError(self.exchange, raw.endpoint, f"server time: HTTP {raw.status}")
        try:
            return source.parse(raw.body)
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise TransientError(
                self.exchange, raw.endpoint, f"server time unreadable: {type(exc).__name__}: {exc}"
            ) from None

    def raise_if_backing_off(self, endpoint: str) -> None:
        """``BackOffError`` while the base URL is closed (adapters may check before waiting on a gate)."""
        state = self.backoff.active(self.clock.seconds())
        if state is not None:
            raise BackOffError(
                self.exchange,
                endpoint,
                f"not sent: backing off for {state.until - self.clock.seconds():.0f}s more ({state.reason})",
                until=state.until,
            )

    def _attempts(
        self, path: str, query: str, sign: SignRequest | None, limiter_key: str, weight: int
    ) -> RawResponse:
        """Send until an answer worth returning; each attempt is budgeted, and re-signed when signed."""
        endpoint = f"GET {path}"
        request = f"{endpoint}?{query}" if query else endpoint
        retry = build_retry(self.config)
        while True:
            # The back-off is checked before the limiter's wait and again after it: another worker may
            # have been told to stop while this one waited.
            self.raise_if_backing_off(endpoint)
            try:
                with tracing.exchange_request(self.exchange, path, len(retry.history) + 1) as traced:
                    raw = self._attempt(path, query, sign, limiter_key, weight, endpoint, request)
                    traced.answered(raw.status)
            except _RetryableError as failure:
                retry = self._next_attempt(retry, endpoint, failure.detail)
                self._sleep(retry.get_backoff_time())
                continue
            if raw.status in self.config.backoff_statuses:  # _send raises it first; a stand-in _send may not
                raise self._back_off(raw)
            if raw.status not in RETRY_STATUSES:
                return raw
            try:
                retry = retry.increment("GET", path)
            except MaxRetryError:
                return raw  # the adapter turns the last answer into a transient / rate-limited error
            delay = max(retry.get_backoff_time(), retry_after_seconds(raw.headers, time.time()) or 0.0)
            if delay > self.config.backoff_max_seconds:
                return raw  # asked to wait longer than a worker should hold a claim: defer it instead
            log.info("%s %s -> HTTP %s: retrying in %.2fs", self.exchange, endpoint, raw.status, delay)
            self._sleep(delay)

    def _attempt(
        self,
        path: str,
        query: str,
        sign: SignRequest | None,
        limiter_key: str,
        weight: int,
        endpoint: str,
        request: str,
    ) -> RawResponse:
        """One request, holding its limiter units until its answer is back (``EndpointLimiter.hold``)."""
        with ExitStack() as held:
            try:
                held.enter_context(self.limiter.hold(limiter_key, weight))
                ip_key = self.config.ip_limiter_key
                if ip_key is not None and ip_key != limiter_key:
                    held.enter_context(self.limiter.hold(ip_key))
            except LimiterTimeoutError as exc:
                raise RateLimitedError(self.exchange, endpoint, f"client-side limiter: {exc}") from None
            self.raise_if_backing_off(endpoint)
            if sign is not None:
                self.clock.ensure_synced()
                sent_query, headers = sign(query)
            else:
                sent_query, headers = query, {"Accept": "application/json"}
            return self._send(path, sent_query, headers, endpoint, request)

    def _next_attempt(self, retry: Retry, endpoint: str, detail: str) -> Retry:
        try:
            return retry.increment("GET", endpoint)
        except MaxRetryError:
            raise TransientError(self.exchange, endpoint, f"retries exhausted: {detail}") from None

    def _send(
        self, path: str, query: str, headers: Mapping[str, str], endpoint: str, request: str
    ) -> RawResponse:
        url = f"{self.config.base_url}{path}" + (f"?{query}" if query else "")
        try:
            # stream: back from the call at the status line, so a refusal closes the base URL before its
            # body is read (other workers check the back-off before each send).
            response = self.session.get(
                url,
                headers=dict(headers),
                timeout=(self.config.connect_timeout_seconds, self.config.read_timeout_seconds),
                allow_redirects=False,
                stream=True,
            )
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise _RetryableError(f"{type(exc).__name__}: {_reason(exc)}") from None
        if response.status_code in self.config.backoff_statuses:
            with self.backoff.closing():
                try:
                    body = response.content
                except requests.exceptions.RequestException:
                    body = b""  # the status alone closes the base URL; the body only says until when
                raise self._back_off(self._raw(response, body, endpoint, request))
        try:
            body = response.content
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise _RetryableError(f"{type(exc).__name__}: {_reason(exc)}") from None
        except requests.exceptions.ChunkedEncodingError as exc:
            raise TransientError(self.exchange, endpoint, f"truncated transfer: {_reason(exc)}") from None
        return self._raw(response, body, endpoint, request)

    def _raw(self, response: requests.Response, body: bytes, endpoint: str, request: str) -> RawResponse:
        raw = RawResponse(
            endpoint, response.status_code, CaseInsensitiveDict(response.headers), body, request
        )
        log.debug("%s %s -> HTTP %s (%d bytes)", self.exchange, endpoint, raw.status, len(raw.body))
        return raw

    def _back_off(self, raw: RawResponse) -> BackOffError:
        """Close the base URL after a 429 / 418 / Bybit 403: until the ban's end, else Retry-After, else a
        default."""
        now = self.clock.seconds()
        retry_after = retry_after_seconds(raw.headers, time.time())
        banned_until = self.config.ban_until(raw) if self.config.ban_until is not None else None
        if banned_until is not None:
            until, source = banned_until, "banned until the time the exchange named (or its documented ban)"
        elif raw.status == 418:
            if retry_after is not None:
                until, source = now + retry_after, "Retry-After"
            else:
                until, source = now + self.backoff.default_ban_seconds(), "no end named: default ban length"
        elif retry_after is not None:
            until, source = now + retry_after, "Retry-After"
        else:
            # Binance weight is counted per clock minute (X-MBX-USED-WEIGHT-1M): the budget is back at the
            # next minute of the exchange's clock. 1 s margin for the offset's error.
            until, source = (now // 60 + 1) * 60 + 1, "no Retry-After: end of the weight minute"
        state = self.backoff.impose(until, f"HTTP {raw.status}, {source}")
        log.warning(
            "%s %s -> HTTP %s: nothing is sent to %s for %.0fs (%s)",
            self.exchange,
            raw.endpoint,
            raw.status,
            self.config.base_url,
            state.until - now,
            source,
        )
        return BackOffError(
            self.exchange,
            raw.endpoint,
            f"HTTP {raw.status}: backing off for {state.until - now:.0f}s ({source})",
            until=state.until,
        )

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
