"""The scenario file the simulator serves: accounts, raw wire records per exchange, expected verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SimAccount(BaseModel):
    """An exchange account the simulator knows; ``simulated`` mirrors OKX demo-trading keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_ref: str
    exchange: Literal["okx", "binance"]
    api_key: str
    secret: str
    passphrase: str | None = None
    simulated: bool = False

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


class BinanceBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    orders: list[OwnedRecord] = Field(default_factory=list)
    force_orders: list[OwnedRecord] = Field(default_factory=list)
    trades: list[OwnedRecord] = Field(default_factory=list)
    income: list[OwnedRecord] = Field(default_factory=list)


class ExpectedVerdict(BaseModel):
    """What the keeper must conclude for one generated claim."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    claim: dict[str, Any]
    reason_code: int
    payout: int
    liquidation: Literal["full", "partial", "adl", "none"] | None = None
    loss: str | None = None


class ScenarioFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int | None = None
    policy: dict[str, Any] = Field(default_factory=dict)
    accounts: list[SimAccount] = Field(default_factory=list)
    okx: OkxBook = Field(default_factory=OkxBook)
    binance: BinanceBook = Field(default_factory=BinanceBook)
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
            entry = {"exchange": account.exchange, "api_key": account.api_key, "secret": account.secret}
            if account.passphrase is not None:
                entry["passphrase"] = account.passphrase
            accounts[account.account_ref] = entry
        return accounts

    def write_keeper_accounts(self, path: Path) -> None:
        path.write_text(json.dumps(self.keeper_accounts(), indent=1))
        path.chmod(0o600)
