"""The registrar's CSV files: validated rows, salted account references, and batches for the contract.

On chain a trader's exchange account is only `accountRef = keccak256(salt ‖ 0x00 ‖ exchange ‖ 0x00 ‖ account
id)`: the raw id never leaves this machine, and without the salt nobody can test guesses of ids against the
chain. The salt comes from `LG_ACCOUNT_REF_SALT` or a file and is never printed.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ops.labels import EXCHANGES
from ops.units import parse_amount, parse_timestamp

SALT_ENV = "LG_ACCOUNT_REF_SALT"
MIN_SALT_BYTES = 16
WHITELIST_COLUMNS = ("address", "exchange", "exchange_account_id", "coverage_limit", "coverage_end")
EXTEND_COLUMNS = ("address", "coverage_limit", "coverage_end")


def _checksum(value: str) -> str:
    if not is_address(value):
        raise ValueError("not an address")
    return str(to_checksum_address(value))


class WhitelistRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    address: str
    exchange: str
    exchange_account_id: str = Field(min_length=1, max_length=128)
    coverage_limit: str = Field(min_length=1)
    coverage_end: str = Field(min_length=1)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _checksum(value)

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, value: str) -> str:
        if value.lower() not in EXCHANGES:
            raise ValueError(f"unknown exchange (known: {', '.join(sorted(EXCHANGES))})")
        return value.lower()


class ExtendRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    address: str
    coverage_limit: str = Field(min_length=1)
    coverage_end: str = Field(min_length=1)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _checksum(value)


class AddressRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    address: str

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _checksum(value)


@dataclass(frozen=True)
class Policy:
    """One whitelist entry ready for the chain."""

    line: int
    address: str
    account_ref: bytes
    coverage_limit: int
    coverage_end: int


@dataclass(frozen=True)
class Extension:
    """One renewal in place (`extendCoverage`): a new limit and a later end for a policy in force."""

    line: int
    address: str
    coverage_limit: int
    coverage_end: int


def load_salt(salt_file: Path | None) -> bytes:
    raw = salt_file.read_bytes().strip() if salt_file is not None else os.environ.get(SALT_ENV, "").encode()
    if len(raw) < MIN_SALT_BYTES:
        raise click.UsageError(
            f"an accountRef salt of at least {MIN_SALT_BYTES} bytes is needed: "
            f"set {SALT_ENV} or pass --salt-file"
        )
    return raw


def account_ref(salt: bytes, exchange: str, account_id: str) -> bytes:
    return keccak(salt + b"\x00" + exchange.lower().encode() + b"\x00" + account_id.encode())


def _rows(path: Path, model: type[BaseModel], required: Sequence[str]) -> Iterator[tuple[int, BaseModel]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise click.BadParameter(f"{path} lacks the column(s) {', '.join(missing)}")
        for line, raw in enumerate(reader, start=2):
            try:
                yield line, model.model_validate(raw)
            except ValidationError as error:
                # Only the field names and messages: the row may hold an exchange account id.
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
                raise click.BadParameter(f"{path} line {line}: {problems}") from None


def _no_duplicates(entries: Sequence[tuple[int, str]], path: Path) -> None:
    seen: dict[str, int] = {}
    for line, address in entries:
        if address in seen:
            raise click.BadParameter(f"{path} line {line}: {address} already on line {seen[address]}")
        seen[address] = line


def read_whitelist(path: Path, salt: bytes, decimals: int, symbol: str) -> list[Policy]:
    policies = []
    for line, row in _rows(path, WhitelistRow, WHITELIST_COLUMNS):
        assert isinstance(row, WhitelistRow)
        try:
            limit = parse_amount(row.coverage_limit, decimals, symbol)
            end = parse_timestamp(row.coverage_end)
        except click.BadParameter as error:
            raise click.BadParameter(f"{path} line {line}: {error.message}") from None
        ref = account_ref(salt, row.exchange, row.exchange_account_id)
        policies.append(Policy(line, row.address, ref, limit, end))
    _no_duplicates([(p.line, p.address) for p in policies], path)
    return policies


def read_extensions(path: Path, decimals: int, symbol: str) -> list[Extension]:
    extensions = []
    for line, row in _rows(path, ExtendRow, EXTEND_COLUMNS):
        assert isinstance(row, ExtendRow)
        try:
            limit = parse_amount(row.coverage_limit, decimals, symbol)
            end = parse_timestamp(row.coverage_end)
        except click.BadParameter as error:
            raise click.BadParameter(f"{path} line {line}: {error.message}") from None
        extensions.append(Extension(line, row.address, limit, end))
    _no_duplicates([(e.line, e.address) for e in extensions], path)
    return extensions


def read_addresses(path: Path) -> list[str]:
    rows = []
    for line, row in _rows(path, AddressRow, ("address",)):
        assert isinstance(row, AddressRow)
        rows.append((line, row.address))
    _no_duplicates(rows, path)
    return [address for _, address in rows]


P = TypeVar("P", Policy, Extension)


def whitelist_batches(policies: Sequence[P], size: int) -> list[list[P]]:
    """`addToWhitelist` and `extendCoverage` take one coverage limit and end per call: group by them, then cut
    into batches."""
    groups: dict[tuple[int, int], list[P]] = {}
    for policy in policies:
        groups.setdefault((policy.coverage_limit, policy.coverage_end), []).append(policy)
    return [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
