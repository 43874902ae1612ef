"""The adapter interface every exchange module implements, and helpers they share."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from keeper.evidence import LiquidationEvidence
from keeper.exchanges.errors import MalformedResponseError
from keeper.interface import Exchange
from keeper.settings import AccountCredentials
from keeper.transport import HttpTransport, RawResponse

ModelT = TypeVar("ModelT", bound=BaseModel)


def empty_is_zero(value: object) -> object:
    # Exchanges send "" for amounts that do not apply yet (e.g. avgPx of an unfilled order).
    return "0" if value == "" else value


WireDecimal = Annotated[Decimal, BeforeValidator(empty_is_zero)]


class WireModel(BaseModel):
    """An exchange JSON object: camelCase on the wire, snake_case here; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True, frozen=True)


class ExchangeAdapter(ABC):
    """Looks up one order with one account's credentials and returns typed evidence.

    Adapters raise the errors of ``keeper.exchanges.errors``; a new exchange adds a module with a subclass
    and one entry in ``keeper.exchanges.registry``.
    """

    exchange: ClassVar[Exchange]

    def __init__(
        self,
        credentials: AccountCredentials,
        transport: HttpTransport,
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(transport={self._transport!r})"

    @abstractmethod
    def fetch_evidence(self, order_id: str, instrument: str) -> LiquidationEvidence:
        """Evidence for ``order_id`` on ``instrument``, or a typed ``ExchangeError``."""

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
