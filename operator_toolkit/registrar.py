"""The registrar's CSV files: validated rows, salted account references, and batches for the contract.

On chain a trader's exchange account is only `accountRef = keccak256(salt ‖ 0x00 ‖ exchange ‖ 0x00 ‖ account
id)`: the raw id never leaves this machine, and without the salt nobody can test guesses of ids against the
chain. The salt comes from `LG_ACCOUNT_REF_SALT` or a file and is never printed.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import click
from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from keeper.settings import AccountCredentials
from operator_toolkit.labels import EXCHANGES
from operator_toolkit.units import parse_amount, parse_timestamp

SALT_ENV = "LG_ACCOUNT_REF_SALT"
MIN_SALT_BYTES = 16
WHITELIST_COLUMNS = ("address", "exchange", "exchange_account_id", "coverage_limit", "coverage_end")
EXTEND_COLUMNS = ("address", "coverage_limit", "coverage_end")


def _checksum(value: str) -> str:
    if not is_address(value):
        raise ValueError("not an address")
    return str(to_checksum_address(value))


def _exchange_slug(value: str) -> str:
    if value.lower() not in EXCHANGES:
        raise ValueError(f"unknown exchange (known: {', '.join(sorted(EXCHANGES))})")
    return value.lower()


class _TraderAccountRow(BaseModel):
    """A CSV row naming a trader and its exchange account (the columns every registrar file shares)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    address: str
    exchange: str
    exchange_account_id: str = Field(min_length=1, max_length=128)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return _checksum(value)

    @field_validator("exchange")
    @classmethod
    def _exchange(cls, value: str) -> str:
        return _exchange_slug(value)


class WhitelistRow(_TraderAccountRow):
    coverage_limit: str = Field(min_length=1)
    coverage_end: str = Field(min_length=1)


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


def _coverage_terms(
    row: WhitelistRow | ExtendRow, path: Path, line: int, decimals: int, symbol: str
) -> tuple[int, int]:
    """The row's coverage limit (token units) and end (unix seconds); a bad value names its file and line."""
    try:
        return parse_amount(row.coverage_limit, decimals, symbol), parse_timestamp(row.coverage_end)
    except click.BadParameter as error:
        raise click.BadParameter(f"{path} line {line}: {error.message}") from None


def read_whitelist(path: Path, salt: bytes, decimals: int, symbol: str) -> list[Policy]:
    policies = []
    for line, row in _rows(path, WhitelistRow, WHITELIST_COLUMNS):
        assert isinstance(row, WhitelistRow)
        limit, end = _coverage_terms(row, path, line, decimals, symbol)
        ref = account_ref(salt, row.exchange, row.exchange_account_id)
        policies.append(Policy(line, row.address, ref, limit, end))
    _no_duplicates([(p.line, p.address) for p in policies], path)
    return policies


def read_extensions(path: Path, decimals: int, symbol: str) -> list[Extension]:
    extensions = []
    for line, row in _rows(path, ExtendRow, EXTEND_COLUMNS):
        assert isinstance(row, ExtendRow)
        limit, end = _coverage_terms(row, path, line, decimals, symbol)
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


# --- the keeper's credential entries (`ape run registrar whitelist --keeper-accounts OUT.json`)

CREDENTIALS_COLUMN = "keeper_credentials"
ENV_SOURCE = "env:"
FILE_SOURCE = "file:"
ENV_SUFFIXES = {
    "api_key": "_API_KEY",
    "secret": "_SECRET",
    "passphrase": "_PASSPHRASE",
    "private_key_pem": "_PRIVATE_KEY_PEM",
}
SIGNING_KEYS = ("secret", "private_key_pem")
"""An HMAC secret, or (Bybit's self-generated keys) an RSA private key in PEM."""


@dataclass(frozen=True)
class KeeperEntry:
    """The keeper's credentials for one CSV row, keyed on chain by the row's salted accountRef."""

    line: int
    address: str
    account_ref: bytes
    credentials: AccountCredentials

    @property
    def ref_hex(self) -> str:
        return "0x" + self.account_ref.hex()


class CredentialsRow(_TraderAccountRow):
    keeper_credentials: str = Field(min_length=1)


def _credential_fields(reference: str, base_dir: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The secret fields a `keeper_credentials` reference points at; errors name variables and files, never
    a value. An unknown form is not repeated either: it may be a secret pasted into the CSV by mistake."""
    if reference.startswith(ENV_SOURCE):
        prefix = reference.removeprefix(ENV_SOURCE)
        if not prefix.isidentifier():
            raise ValueError(f"{reference!r}: env: takes a variable prefix such as env:LG_TRADER_7")
        fields = {f: environ[prefix + s] for f, s in ENV_SUFFIXES.items() if prefix + s in environ}
        missing = [prefix + ENV_SUFFIXES["api_key"]] if "api_key" not in fields else []
        if not any(k in fields for k in SIGNING_KEYS):
            missing.append(" or ".join(prefix + ENV_SUFFIXES[k] for k in SIGNING_KEYS))
        if missing:
            raise ValueError(f"{reference!r}: environment variable(s) {', '.join(missing)} not set")
        return fields
    if reference.startswith(FILE_SOURCE):
        path = base_dir / Path(reference.removeprefix(FILE_SOURCE)).expanduser()
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{reference!r}: cannot read {path} ({type(exc).__name__})") from None
        if not isinstance(raw, dict):
            raise ValueError(f"{reference!r}: {path} is not a JSON object")
        return {f: str(raw[f]) for f in ENV_SUFFIXES if f in raw}
    raise ValueError(
        f"{CREDENTIALS_COLUMN} must be env:PREFIX or file:PATH (the secret itself never goes in the CSV)"
    )


def resolve_credentials(
    reference: str, exchange: str, base_dir: Path, environ: Mapping[str, str]
) -> AccountCredentials:
    fields = _credential_fields(reference, base_dir, environ)
    try:
        return AccountCredentials.model_validate({"exchange": exchange, **fields})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'entry'}: {e['msg']}" for e in error.errors())
        raise ValueError(f"{reference!r}: {problems}") from None


def read_keeper_entries(
    path: Path, salt: bytes, environ: Mapping[str, str] | None = None
) -> list[KeeperEntry]:
    """Every row's credentials from its `keeper_credentials` source (`env:PREFIX`: PREFIX_API_KEY,
    PREFIX_SECRET or (Bybit RSA keys) PREFIX_PRIVATE_KEY_PEM, PREFIX_PASSPHRASE; `file:PATH`, relative to the
    CSV: a JSON object with api_key, secret or private_key_pem, passphrase). Read before anything is sent, so
    a missing secret refuses the whole file."""
    source = os.environ if environ is None else environ
    entries = []
    for line, row in _rows(path, CredentialsRow, (*WHITELIST_COLUMNS, CREDENTIALS_COLUMN)):
        assert isinstance(row, CredentialsRow)
        try:
            credentials = resolve_credentials(row.keeper_credentials, row.exchange, path.parent, source)
        except ValueError as error:
            raise click.BadParameter(f"{path} line {line}: {error}") from None
        ref = account_ref(salt, row.exchange, row.exchange_account_id)
        entries.append(KeeperEntry(line, row.address, ref, credentials))
    return entries


def keeper_entry_json(credentials: AccountCredentials) -> dict[str, str]:
    """One entry of the keeper's accounts file (keeper/settings.py `AccountRegistry`)."""
    entry = {"exchange": credentials.exchange.slug, "api_key": credentials.api_key.get_secret_value()}
    if credentials.private_key_pem is not None:
        entry["private_key_pem"] = credentials.private_key_pem.get_secret_value()
    else:
        entry["secret"] = credentials.secret.get_secret_value()
    if credentials.passphrase is not None:
        entry["passphrase"] = credentials.passphrase.get_secret_value()
    return entry


def write_keeper_accounts(path: Path, entries: Sequence[KeeperEntry]) -> None:
    """Adds (or replaces) ``entries`` in the keeper's accounts file at ``path``, keyed by accountRef; other
    entries stay. Written to a new file of mode 0600 and renamed over the old, so it is never readable by
    others nor left half written."""
    existing: dict[str, object] = {}
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise click.BadParameter(f"{path}: not a keeper accounts file ({type(exc).__name__})") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(f"{path}: not a keeper accounts file (not a JSON object)")
        existing = {str(ref).lower(): entry for ref, entry in loaded.items()}
    existing.update({entry.ref_hex: keeper_entry_json(entry.credentials) for entry in entries})
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(existing, handle, indent=1, sort_keys=True)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
