"""The adapter interface every exchange module implements, and helpers they share."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

from keeper.evidence import LiquidationEvidence
from keeper.exchanges.answers import RawAnswer, request_key
from keeper.exchanges.errors import MalformedResponseError
from keeper.exchanges.limits import LimiterNeed
from keeper.exchanges.transport import RawResponse, SharedAnswers, SignRequest
from keeper.interface import Exchange

if TYPE_CHECKING:  # settings imports the policy, which reads the verifier's outcomes: annotation only
    from keeper.settings import AccountCredentials

ModelT = TypeVar("ModelT", bound=BaseModel)


def empty_is_zero(value: object) -> object:
    # Exchanges send "" for amounts that do not apply yet (e.g. avgPx of an unfilled order).
    return "0" if value == "" else value


WireDecimal = Annotated[Decimal, BeforeValidator(empty_is_zero)]


class WireModel(BaseModel):
    """An exchange JSON object: camelCase on the wire, snake_case here; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Transport(Protocol):
    """``HttpTransport`` on the wire; ``keeper.exchanges.answers.ReplayTransport`` in a replay."""

    exchange: str

    @property
    def shared(self) -> SharedAnswers | None:
        """Reference answers the exchange's adapters share (None: every request goes out, as in a replay)."""

    def get(
        self, path: str, query: str, sign: SignRequest, limiter_key: str, weight: int = 1
    ) -> RawResponse: ...

    def save_malformed(self, error: MalformedResponseError) -> MalformedResponseError: ...

    def raise_if_backing_off(self, endpoint: str) -> None:
        """``BackOffError`` while the exchange told us to stop sending."""


class OrderQuery(BaseModel):
    """The order a claim names, and the span its liquidation must fall in (unix ms).

    ``not_before_ms`` is the earliest liquidation the claim can be about (filed at most the claim window after
    it); adapters compare it with each endpoint's retention to tell "does not exist" from "no longer kept".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str = Field(min_length=1)
    instrument: str = Field(min_length=1)
    not_before_ms: int = Field(ge=0)
    not_after_ms: int = Field(ge=0)
    known_since_ms: int = Field(default=0, ge=0)
    """When the keeper first saw the claim, on the adapter's clock (0: when the look-up begins). Any answer
    read since then is as fresh as one the keeper could have read for the claim the moment it saw it: the
    claim was on chain, so the trader had filed it, before then."""

    @model_validator(mode="after")
    def _ordered(self) -> OrderQuery:
        if self.not_before_ms > self.not_after_ms:
            raise ValueError(f"not_before_ms {self.not_before_ms} is after not_after_ms {self.not_after_ms}")
        return self


class ExchangeAdapter(ABC):
    """Looks up one order with one account's credentials and returns typed evidence.

    Adapters raise the errors of ``keeper.exchanges.errors``; a new exchange adds a module with a subclass
    and one entry in ``keeper.exchanges.registry``. Every answer an adapter reads goes through ``_fetch``,
    which records it in ``answers``: replayed through ``ReplayTransport`` (with the recorded clock), the same
    adapter code re-derives the same evidence without credentials or network.
    """

    exchange: ClassVar[Exchange]
    retention_ms: ClassVar[int]
    """How long the exchange keeps an order with fills (the only kind a liquidation is): after that its
    absence proves nothing, and the review desk shows it as the deadline before the data is purged."""

    def __init__(
        self,
        credentials: AccountCredentials,
        transport: Transport,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if credentials.exchange is not self.exchange:
            raise ValueError(
                f"{type(self).__name__} needs {self.exchange.slug} credentials, "
                f"got {credentials.exchange.slug}"
            )
        self._credentials = credentials
        self._transport = transport
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.answers: list[RawAnswer] = []
        """Every answer read by this adapter, in order (kept after an error too)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transport={self._transport!r})"

    @abstractmethod
    def fetch_evidence(self, query: OrderQuery) -> LiquidationEvidence:
        """Evidence for ``query.order_id`` on ``query.instrument``, or a typed ``ExchangeError``."""

    def limiter_needs(self, query: OrderQuery) -> tuple[LimiterNeed, ...]:
        """The limiter keys (and weights) a look-up of ``query`` takes on its usual path.

        The verifier's scheduler hands a claim to a worker only when these have capacity, so no worker
        sleeps in the limiter on one account while another account's claim could go. A forecast, not a
        promise: a rarer path (an order only in the history) still waits in the limiter. Empty: nothing is
        known, the claim is always ready.
        """
        return ()

    def now_ms(self) -> int:
        """The adapter's clock (server-corrected on the wire, the recorded time in a replay), unix ms."""
        return int(self._clock().timestamp() * 1000)

    def _fetch(
        self, path: str, query: str, sign: SignRequest, limiter_key: str, weight: int = 1
    ) -> RawResponse:
        """GET through the transport and record the answer (whatever its status)."""
        raw = self._transport.get(path, query, sign, limiter_key, weight)
        self.answers.append(
            RawAnswer(request=raw.request, status=raw.status, body=raw.body, observed_at_ms=self.now_ms())
        )
        return raw

    def _fetch_shared(
        self,
        path: str,
        query: str,
        sign: SignRequest,
        limiter_key: str,
        max_age_ms: int,
        reusable: Callable[[RawResponse], bool],
    ) -> RawResponse:
        """``_fetch`` for public reference data: an answer another adapter of the exchange read at most
        ``max_age_ms`` ago is reused. It is recorded again here, with the time it was really observed, so a
        replay serves it like any other. A fresh answer that ``reusable`` accepts is offered to the others."""
        shared = self._transport.shared
        key = request_key(path, query)
        if shared is not None:
            hit = shared.get(key, self.now_ms() - max_age_ms)
            if hit is not None:
                raw = hit.response
                self.answers.append(
                    RawAnswer(
                        request=raw.request,
                        status=raw.status,
                        body=raw.body,
                        observed_at_ms=hit.observed_at_ms,
                    )
                )
                return raw
        raw = self._fetch(path, query, sign, limiter_key)
        if shared is not None and reusable(raw):
            shared.put(key, raw, self.answers[-1].observed_at_ms)
        return raw

    def _malformed(self, raw: RawResponse, detail: str) -> MalformedResponseError:
        return self._transport.save_malformed(
            MalformedResponseError(self.exchange.slug, raw.endpoint, detail, raw.body)
        )


def parse_json(raw: RawResponse, exchange: str) -> Any:
    try:
        return json.loads(raw.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            exchange, raw.endpoint, f"invalid JSON (HTTP {raw.status}): {exc}", raw.body
        ) from None


def parse_model(model: type[ModelT], value: object, raw: RawResponse, exchange: str) -> ModelT:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise MalformedResponseError(
            exchange, raw.endpoint, f"unexpected {model.__name__}: {fields}", raw.body
        ) from None


def time_windows(start_ms: int, end_ms: int, span_ms: int) -> Iterator[tuple[int, int]]:
    """``[start_ms, end_ms]`` (inclusive) cut into consecutive inclusive windows of at most ``span_ms``: the
    exchanges refuse a longer span (Binance and Bybit: 7 days)."""
    if end_ms < start_ms:
        raise ValueError(f"window ends at {end_ms}, before its start {start_ms}")
    while True:
        stop = min(end_ms, start_ms + span_ms)
        yield start_ms, stop
        if stop >= end_ms:
            return
        start_ms = stop + 1
