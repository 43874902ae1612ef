"""The scenario file the simulator serves: accounts, raw wire records per exchange, expected verdicts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SimAccount(BaseModel):
    """An exchange account the simulator knows; ``simulated`` mirrors OKX demo-trading keys.

    A Bybit account signs with an HMAC ``secret`` (a system-generated key) or, exactly one of them, with an
    RSA key pair it generated itself: ``private_key_pem`` goes to the keeper's accounts file, the simulator
    verifies with ``public_key_pem`` (what Bybit holds). ``ip_whitelist`` (empty: any IP) and
    ``permissions`` (None: every read endpoint; else the paths the key may read) are the key's settings on
    Bybit (10010 / 10005)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    exchange: Literal["okx", "binance", "bybit"]
    api_key: str
    secret: str = ""
    passphrase: str | None = None
    simulated: bool = False
    private_key_pem: str | None = None
    public_key_pem: str | None = None
    ip_whitelist: tuple[str, ...] = ()
    permissions: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one_key_kind(self) -> SimAccount:
        rsa = self.private_key_pem is not None
        if rsa != (self.public_key_pem is not None):
            raise ValueError("an RSA account needs both halves of its key pair")
        if rsa and self.exchange != "bybit":
            raise ValueError(f"RSA keys are simulated for bybit only, not {self.exchange}")
        if rsa == bool(self.secret):
            raise ValueError("an account has an HMAC secret or an RSA key pair, exactly one")
        return self

    def __repr__(self) -> str:
        return f"SimAccount({self.exchange}, {self.account_ref[:10]}…)"


class OwnedRecord(BaseModel):
    """One wire object exactly as the exchange returns it, plus the API key of the account it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: str
    wire: dict[str, Any]


class OkxBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[OwnedRecord] = Field(default_factory=list)
    fills: list[OwnedRecord] = Field(default_factory=list)
    instruments: list[dict[str, Any]] = Field(default_factory=list)
    """public/instruments rows (ctType, settleCcy, ...); served only while the instId is not ``delisted``."""
    positions: list[OwnedRecord] = Field(default_factory=list)
    """account/positions-history rows (liqPenalty, mgnMode, type, uTime)."""
    delisted: list[str] = Field(default_factory=list)
    """Instrument ids no longer live (expired FUTURES, delisted SWAP): trade/order answers 51001 for them."""


class BinanceBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[OwnedRecord] = Field(default_factory=list)
    force_orders: list[OwnedRecord] = Field(default_factory=list)
    trades: list[OwnedRecord] = Field(default_factory=list)
    income: list[OwnedRecord] = Field(default_factory=list)
    disabled_symbols: list[str] = Field(default_factory=list)
    """Symbols Binance no longer serves (delisted, disabled): every signed endpoint answers -1121 for them."""


class BybitBook(BaseModel):
    """Bybit v5 rows exactly as the endpoints return them (linear and inverse categories together: each row's
    category follows from its symbol, ``keeper.sim.bybit.category_of``)."""

    model_config = ConfigDict(extra="forbid")

    orders: list[OwnedRecord] = Field(default_factory=list)
    """order/history rows (createType, orderStatus, cumExecQty, createdTime, ...)."""
    executions: list[OwnedRecord] = Field(default_factory=list)
    """execution/list rows (execType, execFee positive for a charge, feeCurrency, execTime, seq)."""
    closed_pnl: list[OwnedRecord] = Field(default_factory=list)
    """position/closed-pnl rows, one per closing order (closedPnl net of openFee and closeFee)."""
    transactions: list[OwnedRecord] = Field(default_factory=list)
    """account/transaction-log rows (type TRADE / LIQUIDATION / ADL; fee positive for an expense)."""
    margin_modes: dict[str, str] = Field(default_factory=dict)
    """API key -> account/info ``marginMode`` (ISOLATED_MARGIN, PORTFOLIO_MARGIN); REGULAR_MARGIN (cross) if
    not named."""


class ExpectedVerdict(BaseModel):
    """What the keeper must conclude for one generated claim."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    claim: dict[str, Any]
    reason_code: int | None
    """The verdict; None when the claim must go to a person (``review_cause``)."""
    payout: int
    liquidation: Literal["full", "partial", "adl", "none"] | None = None
    loss: str | None = None
    review_cause: str | None = None
    """A ``keeper.evidence.ReviewCause`` value: the keeper must not decide, a person must."""

    @model_validator(mode="after")
    def _verdict_or_review(self) -> ExpectedVerdict:
        if (self.reason_code is None) == (self.review_cause is None):
            raise ValueError(f"{self.scenario}: expected a reason code or a review cause, exactly one")
        return self


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    policy: dict[str, Any] = Field(default_factory=dict)
    accounts: list[SimAccount] = Field(default_factory=list)
    okx: OkxBook = Field(default_factory=OkxBook)
    binance: BinanceBook = Field(default_factory=BinanceBook)
    bybit: BybitBook = Field(default_factory=BybitBook)
    expected: list[ExpectedVerdict] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> ScenarioFile:
        return cls.model_validate_json(path.read_text())

    def dump(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=1))

    def keeper_accounts(self) -> dict[str, dict[str, str]]:
        """The ``LG_ACCOUNTS_FILE`` content matching these accounts."""
        accounts: dict[str, dict[str, str]] = {}
        for account in self.accounts:
            entry = {"exchange": account.exchange, "api_key": account.api_key}
            if account.private_key_pem is not None:
                entry["private_key_pem"] = account.private_key_pem
            else:
                entry["secret"] = account.secret
            if account.passphrase is not None:
                entry["passphrase"] = account.passphrase
            accounts[account.account_ref] = entry
        return accounts

    def write_keeper_accounts(self, path: Path) -> None:
        path.write_text(json.dumps(self.keeper_accounts(), indent=1))
        path.chmod(0o600)


def wire_decimal(value: Decimal) -> str:
    """An amount as the exchanges print it: plain digits, no exponent."""
    return format(value, "f")


@dataclass
class SimTrade:
    """One fill of a generated order."""

    size: Decimal
    pnl: Decimal
    fee: Decimal
    trade_id: int


@dataclass
class SimOrder:
    """A generated order before it is put on an exchange's wire."""

    exchange: str
    owner: SimAccount
    order_id: str
    instrument: str
    kind: str
    time_ms: int
    price: Decimal
    size: Decimal
    pnl: Decimal
    fee: Decimal
    penalty: Decimal
    trades: list[SimTrade]

    @property
    def loss(self) -> Decimal:
        net = self.pnl + self.fee + self.penalty
        return -net if net < 0 else Decimal(0)
