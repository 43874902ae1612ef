"""Typed records that cross the verification boundary: the claim and the exchange evidence."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from keeper.interface import MAX_INSTRUMENT_LENGTH, MAX_ORDER_ID_LENGTH, Exchange


class LiquidationKind(StrEnum):
    """How the exchange closed the order."""

    FULL = "full"
    PARTIAL = "partial"
    ADL = "adl"
    NONE = "none"

    @property
    def is_forced_liquidation(self) -> bool:
        return self in (LiquidationKind.FULL, LiquidationKind.PARTIAL)


class ReviewCause(StrEnum):
    """Why automation stopped and a person must decide (the ``cause`` of a manual review)."""

    AGED_OUT = "aged_out"
    """Not found, but the claim's span reaches past what the exchange still keeps: absence proves nothing."""
    INSTRUMENT_NOT_LIVE = "instrument_not_live"
    """The exchange no longer serves the instrument (OKX 51001, Binance -1121); no history has the order."""
    UNKNOWN_ACCOUNT = "unknown_account"
    """The keeper holds no credentials for the claim's accountRef: our configuration gap, not the trader's."""
    FEE_CURRENCY = "fee_currency"
    """A fee or penalty was charged in another asset than the loss, with no exchange-reported price."""
    UNMATCHED_PENALTY = "unmatched_penalty"
    """A liquidation-penalty row could not be tied to this order alone."""
    MALFORMED_RESPONSE = "malformed_response"
    INCONSISTENT_EVIDENCE = "inconsistent_evidence"
    UNSUPPORTED_EXCHANGE = "unsupported_exchange"
    INTERNAL_ERROR = "internal_error"


_ACCOUNT_REF = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _account_ref(value: str) -> str:
    lowered = value.lower()
    if not _ACCOUNT_REF.match(lowered):
        raise ValueError(f"accountRef must be 0x followed by 64 hex digits, got {value!r}")
    return lowered


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"address must be 0x followed by 40 hex digits, got {value!r}")
    return value.lower()


AccountRef = Annotated[str, AfterValidator(_account_ref)]
Address = Annotated[str, AfterValidator(_address)]
TokenUnits = Annotated[int, Field(ge=0)]


class ClaimInput(BaseModel):
    """A claim as filed on chain; amounts are in token units, times in unix seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: int = Field(ge=0)
    user: Address
    exchange: Exchange
    account_ref: AccountRef
    order_id: str = Field(min_length=1, max_length=MAX_ORDER_ID_LENGTH)
    instrument: str = Field(min_length=1, max_length=MAX_INSTRUMENT_LENGTH)
    claimed_loss: TokenUnits
    submitted_at: int = Field(ge=0)
    coverage_start: int = Field(ge=0)
    coverage_end: int = Field(ge=0)
    remaining_coverage: TokenUnits

    @field_validator("exchange", mode="before")
    @classmethod
    def _exchange_by_name(cls, value: object) -> object:
        """Files written for people (scenario files) name the exchange; the chain numbers it."""
        return Exchange.from_slug(value) if isinstance(value, str) else value


class LiquidationEvidence(BaseModel):
    """What an exchange adapter proved about one order.

    Signed amounts follow the balance: negative ``realized_pnl``, ``fees`` and ``liquidation_penalty``
    took money from the trader. ``loss`` is the positive amount lost (0 when the close made money).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: Exchange
    order_id: str
    instrument: str
    liquidation: LiquidationKind
    liquidation_time_ms: int = Field(ge=0, description="Fill/update time of the order, unix ms.")
    filled_size: Decimal
    average_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    liquidation_penalty: Decimal
    settlement_currency: str = Field(
        min_length=1, description="The asset ``realized_pnl`` (so ``loss``) is settled in: USDT, BTC, ..."
    )
    settlement_source: str = Field(
        default="instrument",
        description="Where settlement_currency comes from: the instrument's definition, or, for an "
        "instrument the exchange no longer lists, the order's fee currency (order_fee_ccy).",
    )
    fee_currency: str = Field(min_length=1, description="The asset ``fees`` are in (after any conversion).")
    penalty_currency: str = Field(min_length=1, description="The asset ``liquidation_penalty`` is in.")
    loss: Decimal = Field(ge=0)
    margin_mode: str = Field(default="cross", description="cross or isolated, as the exchange reports it.")

    @property
    def currencies(self) -> frozenset[str]:
        return frozenset({self.settlement_currency, self.fee_currency, self.penalty_currency})


# Money arithmetic must never round silently: the default context keeps 28 digits and rounds half-even,
# while exchange amounts can carry 22 significant digits before being summed and scaled.
EXACT = Context(prec=200, traps=[Inexact, InvalidOperation, DivisionByZero, Overflow])


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = EXACT.add(total, value)
    return total


def loss_from(realized_pnl: Decimal, fees: Decimal, liquidation_penalty: Decimal) -> Decimal:
    """The trader's loss: the negated net balance effect, floored at zero."""
    net = exact_sum((realized_pnl, fees, liquidation_penalty))
    return EXACT.minus(net) if net < 0 else Decimal(0)
