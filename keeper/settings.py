"""Settings of the verification layer (environment or ``.env``, prefix ``LG_``) and the account registry."""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from keeper.evidence import AccountRef
from keeper.interface import Exchange
from keeper.policy import PolicyParams
from keeper.store.url import redact_url
from operator_toolkit.deployment import DEPLOYMENTS_DIR, deployment_path

log = logging.getLogger(__name__)


class UnknownAccountError(LookupError):
    """No credentials are configured for an accountRef (a rejection reason, not a crash)."""

    def __init__(self, account_ref: str) -> None:
        super().__init__(f"no credentials configured for accountRef {account_ref}")
        self.account_ref = account_ref


class AccountsFileError(ValueError):
    """The accounts file cannot be read or does not match the expected shape."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"accounts file {path}: {detail}")
        self.path = path


class DeploymentFileError(ValueError):
    """LG_DEPLOYMENT_FILE cannot be read or names no proxy address."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"deployment file {path}: {detail}")
        self.path = path


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")

LOCAL_NETWORK = "local"
# What a local chain (``ethereum:local:*``: anvil without a block time mines a block per transaction and none
# in between) changes, for each setting not given explicitly: no reorgs to wait out, so every block counts at
# once, and a head that does not move is normal, so no watchdog (0 = off).
LOCAL_DEFAULTS: dict[str, object] = {"confirmations": 0, "watchdog_seconds": 0.0}


class DatabaseUrl(SecretStr):
    """A PostgreSQL URL that may carry a password: shown (repr, str, the start-up log) with it masked."""

    def _display(self) -> str:
        return redact_url(self.get_secret_value())


def network_name(choice: str) -> str | None:
    """The network of an ape network choice (``ethereum:sepolia:node`` -> ``sepolia``), as the ape scripts
    name ``deployments/<network>.json``; None when the choice names none (a bare ecosystem or a URI)."""
    parts = choice.split(":")
    if len(parts) < 2 or "/" in choice or not parts[1]:
        return None
    return parts[1]


def is_local_network(choice: str) -> bool:
    return network_name(choice) == LOCAL_NETWORK


class AccountCredentials(BaseModel):
    """Read-only API credentials of one trader account; secrets never appear in a repr or a dump."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    exchange: Exchange
    api_key: SecretStr
    secret: SecretStr = SecretStr("")
    """HMAC secret: required for OKX and Binance; for Bybit exactly one of it and ``private_key_pem``."""
    passphrase: SecretStr | None = None
    private_key_pem: SecretStr | None = None
    """Bybit only: the PEM private key of a self-generated RSA API key (signs RSA-SHA256)."""

    @model_validator(mode="before")
    @classmethod
    def _exchange_by_name(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("exchange"), str):
            return {**data, "exchange": Exchange.from_slug(data["exchange"])}
        return data

    @model_validator(mode="after")
    def _okx_needs_passphrase(self) -> AccountCredentials:
        if self.exchange is Exchange.OKX and self.passphrase is None:
            raise ValueError("OKX credentials need a passphrase")
        return self

    @model_validator(mode="after")
    def _one_signing_key(self) -> AccountCredentials:
        has_secret = bool(self.secret.get_secret_value())
        if self.exchange is not Exchange.BYBIT:
            if self.private_key_pem is not None:
                raise ValueError(f"{self.exchange.slug} credentials take a secret, not a private_key_pem")
            if not has_secret:
                raise ValueError(f"{self.exchange.slug} credentials need a secret")
            return self
        if has_secret == (self.private_key_pem is not None):
            raise ValueError("bybit credentials need exactly one of secret (HMAC) and private_key_pem (RSA)")
        if self.private_key_pem is not None:
            _check_rsa_pem(self.private_key_pem.get_secret_value())
        return self

    @property
    def key_kind(self) -> str:
        """How requests are signed: ``rsa`` with ``private_key_pem``, else ``hmac``."""
        return "rsa" if self.private_key_pem is not None else "hmac"


def _check_rsa_pem(pem: str) -> None:
    """``ValueError`` (never echoing the key) unless ``pem`` loads as an unencrypted RSA private key."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("private_key_pem does not load as an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private_key_pem is not an RSA private key")


class AccountRegistry:
    """Credentials keyed by the claim's accountRef (lower-case 0x + 64 hex)."""

    def __init__(self, accounts: dict[str, AccountCredentials]) -> None:
        self._accounts = {ref.lower(): creds for ref, creds in accounts.items()}

    def __repr__(self) -> str:
        return f"AccountRegistry({len(self._accounts)} accounts)"

    def __len__(self) -> int:
        return len(self._accounts)

    def lookup(self, account_ref: str) -> AccountCredentials:
        try:
            return self._accounts[account_ref.lower()]
        except KeyError:
            raise UnknownAccountError(account_ref) from None

    @classmethod
    def from_file(cls, path: Path) -> AccountRegistry:
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise AccountsFileError(path, f"{type(exc).__name__}: {exc}") from None
        return cls.from_mapping(raw, source=path)

    @classmethod
    def from_mapping(cls, raw: object, source: Path | None = None) -> AccountRegistry:
        origin = source or Path("<environment LG_ACCOUNTS>")
        if not isinstance(raw, dict):
            raise AccountsFileError(origin, f"expected a JSON object, got {type(raw).__name__}")
        accounts: dict[str, AccountCredentials] = {}
        for ref, entry in raw.items():
            try:
                checked_ref = _AccountKey(ref=ref).ref
                accounts[checked_ref] = AccountCredentials.model_validate(entry)
            except (ValidationError, ValueError) as exc:
                # Only field locations and messages: pydantic would echo the secret values as input.
                detail = _describe_error(exc)
                raise AccountsFileError(origin, f"entry {ref!r}: {detail}") from None
        return cls(accounts)


class _AccountKey(BaseModel):
    ref: AccountRef


def _describe_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)


class KeeperSettings(BaseSettings):
    """All keeper settings: environment or ``.env``, prefix ``LG_``; validated when constructed."""

    # hide_input_in_errors: a validation error would otherwise quote the input, LG_DATABASE_URL's password
    # and LG_ACCOUNTS_JSON's secrets included; the field and the reason are still named.
    model_config = SettingsConfigDict(
        env_prefix="LG_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,  # each setting's description: docs/settings.md (tools/settings_doc.py)
    )

    okx_base_url: str = "https://www.okx.com"
    """OKX REST API root (the exchange simulator's URL in tests and the demo)."""
    binance_base_url: str = "https://fapi.binance.com"
    """Binance USD-M futures REST API root."""
    bybit_base_url: str = "https://api.bybit.com"
    """Bybit v5 REST API root."""
    accounts_file: Path | None = None
    """JSON file of the traders' read-only API credentials by accountRef (docs/keeper-verification.md)."""
    accounts_json: SecretStr | None = Field(
        default=None, description="Alternative to accounts_file: the same JSON object in LG_ACCOUNTS_JSON."
    )

    http_connect_timeout_seconds: float = Field(default=3.05, gt=0)
    """TCP connect timeout of each exchange request."""
    http_read_timeout_seconds: float = Field(default=10.0, gt=0)
    """Read timeout of each exchange request."""
    http_retries: int = Field(default=3, ge=0)
    """Retries of an exchange GET after a connection error or a retryable status, each signed anew."""
    http_backoff_factor: float = Field(default=0.25, ge=0)
    """Exponential back-off between those retries (urllib3's backoff_factor)."""
    http_backoff_jitter: float = Field(default=0.1, ge=0)
    """Random seconds added to each back-off, so the workers do not retry in step."""
    http_backoff_max_seconds: float = Field(default=5.0, gt=0)
    """Longest wait before a retry; asked (Retry-After) to wait longer, the keeper defers the claim."""
    limiter_max_wait_seconds: float = Field(default=30.0, gt=0)
    """Longest a request waits for its exchange's rate limiter before the claim is deferred."""
    binance_recv_window_ms: int = Field(default=5000, gt=0, le=60000)
    """recvWindow of signed Binance requests: how long one stays valid."""
    binance_weight_limit_per_minute: int = Field(default=2400, gt=0)
    """Binance's request weight per IP and minute (the limit of X-MBX-USED-WEIGHT-1M)."""
    binance_weight_safety_margin: int = Field(default=100, ge=0)
    """Weight left unspent each minute, for other clients on the same IP."""
    bybit_recv_window_ms: int = Field(
        default=5000, gt=0, le=60000, description="X-BAPI-RECV-WINDOW: how long a signed request stays valid."
    )
    verify_workers: int = Field(default=32, ge=1, le=64)
    """Claims verified at once: threads that mostly wait on the exchanges. 32: at 50 ms per request a claim
    takes two or three requests in a row, so 8 workers capped the keeper near 60 claims/s whatever the
    limits allowed; with the verdicts posted one batch behind (``Pipeline._settle``) and stored in groups,
    32 keep OKX's per-account limits busy on the crash-day bench (the per-account scheduler and the
    limiters keep them within every limit)."""
    clock_skew_alert_after: int = Field(
        default=3, ge=1, description="Refused timestamps in a row (after re-syncs) before an ALERT log line."
    )
    backoff_default_seconds: float = Field(
        default=120.0, gt=0, description="A 418 ban whose end the exchange did not name: first length."
    )
    backoff_max_ban_seconds: float = Field(
        default=3 * 86_400.0, gt=0, description="Longest default ban (Binance bans last 2 min to 3 days)."
    )
    malformed_dump_dir: Path = Path("var/keeper/malformed")
    """Where an exchange answer that cannot be parsed is saved, for the review desk."""

    coverage_ratio: Decimal = Field(default=Decimal("0.8"), ge=0, le=1)
    """Share of a liquidation's loss that is paid."""
    claim_window_seconds: int = Field(default=7 * 24 * 3600, ge=0)
    """How long after its liquidation a claim may be filed; at most the contract's claimGracePeriod()."""
    cover_adl: bool = False
    """Whether an auto-deleveraging (ADL) close is covered like a liquidation."""
    max_payout_per_claim: int = Field(default=10_000 * 10**6, ge=0)
    """Cap on one payout, in token base units (the default: 10,000 tokens of 6 decimals)."""
    token_decimals: int = Field(default=6, ge=0, le=36)
    """Decimals of the pool's token (USDT and USDC: 6)."""
    policy_version: str = "lg-policy-1"
    """Policy name written into every verdict's canonical record."""
    settlement_currencies: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset({"USDT", "USDC"}),
        min_length=1,
        description="LG_SETTLEMENT_CURRENCIES, comma-separated: assets whose losses are paid one for one.",
    )

    # The daemon (keeper/pipeline.py); see docs/keeper-daemon.md.
    database_path: Path = Path("var/keeper/keeper.sqlite3")
    """SQLite store file; the instance lock is a file beside it, whichever database holds the store."""
    database_url: DatabaseUrl | None = Field(
        default=None,
        description="postgresql://user[:password]@host:port/db: the store in PostgreSQL; unset or empty: "
        "SQLite at database_path (docs/keeper-daemon.md).",
    )
    audit_log_path: Path = Path("var/keeper/audit.jsonl")
    """Hash-chained audit log (JSON lines) of every decision and transaction."""
    contract_address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    """The pool's proxy address; unset: the deployment record's proxy."""
    start_block: int = Field(default=0, ge=0, description="First block scanned when the store has no cursor.")
    confirmations: int = Field(default=2, ge=0)
    """Blocks a log must be below the head before it is read: the reorg depth waited out."""
    verify_batch_size: int = Field(default=50, ge=1, le=100)
    """Verdicts per transaction. 50: 43,344 gas per verdict against 47,130 at 10 (bench/gas.py), and each
    transaction's fixed cost of the keeper's own time is spread over 2.5x the claims of the old 20."""
    payout_batch_size: int = Field(default=50, ge=1, le=100)
    """Payouts per executePayouts transaction."""
    poll_interval_seconds: float = Field(default=12.0, gt=0)
    """Wait between the end of one pass and the start of the next."""
    defer_base_seconds: int = Field(default=60, ge=1)
    """First back-off of a deferred claim; it doubles with each attempt."""
    defer_max_seconds: int = Field(default=3600, ge=1)
    """Longest back-off of a deferred claim."""
    deployment_file: Path | None = Field(
        default=None, description="deployments/<network>.json written by `ape run deploy`; its proxy is used."
    )
    deployments_dir: Path = Field(
        default=DEPLOYMENTS_DIR,
        description="Without LG_CONTRACT_ADDRESS / LG_DEPLOYMENT_FILE: <dir>/<network>.json, as ape scripts.",
    )

    # The long-running loop (keeper/daemon.py); see docs/keeper-daemon.md.
    metrics_host: str = "127.0.0.1"
    """Address of the /metrics and /healthz server: metrics name claims and amounts, keep it private."""
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0 picks a free port.")
    metrics_enabled: bool = True
    """Serve /metrics and /healthz (the daemon only)."""
    console_port: int = Field(
        default=8780, ge=0, le=65535, description="`keeper console`'s port on 127.0.0.1; 0 picks a free port."
    )
    watchdog_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Exit non-zero when the chain head has not moved for this long; 0 = no head watchdog "
        "(the default on a local network).",
    )
    max_pass_seconds: float = Field(
        default=900.0, gt=0, description="A pass running longer than this is stuck: exit for a restart."
    )
    shard_count: int = Field(default=1, ge=1, le=1024)
    """Keepers sharing the claims: each decides the claims with claimId mod shard_count == shard_index."""
    shard_index: int = Field(default=0, ge=0)
    """This keeper's shard, below shard_count."""
    shard_takeover_seconds: int = Field(
        default=3600, ge=0, description="Decide another shard's claim once it is Pending on chain this long."
    )
    keeper_id: str | None = Field(default=None, min_length=1, max_length=200)
    """This keeper's name in a shared PostgreSQL store, on its claim leases; unset: hostname:pid."""
    lease_seconds: float = Field(default=120.0, gt=0)
    """With LG_DATABASE_URL: how long a claim stays leased to a keeper unless renewed; a stopped keeper's
    claims are taken over by another after this."""
    lease_batch_size: int = Field(default=500, ge=1)
    """With LG_DATABASE_URL: claims a keeper leases at a time, so that keepers share a backlog."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """auto: JSON lines when stderr is not a terminal, text when it is."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The keeper's log level; ape's own logger shows warnings and up."""

    # Tracing (keeper/tracing.py); see docs/keeper-daemon.md.
    otel_exporter: Literal["none", "otlp", "console"] = "none"
    """Where the keeper's OpenTelemetry spans go: nowhere (the no-op tracer), OTLP over HTTP, or stderr."""
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces URL (http://collector:4318/v1/traces); unset: the exporter's default "
        "or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.",
    )
    otel_timeout_seconds: float = Field(default=10.0, gt=0, description="Per OTLP export, retries included.")

    @field_validator("settlement_currencies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # "usdt, USDC" from the environment; a set or list when constructed in code.
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple, set, frozenset)):
            cleaned = {str(item).strip().upper() for item in items}
            if "" in cleaned:
                raise ValueError(f"empty currency in {value!r}")
            return frozenset(cleaned)
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(text, str):
            return value
        if not text.strip():
            return None  # LG_DATABASE_URL= (empty): the SQLite default
        scheme = text.split("://", 1)[0] if "://" in text else ""
        if scheme not in ("postgresql", "postgres"):
            # Only the scheme is named: the rest may hold a password.
            raise ValueError(f"database_url must be a postgresql:// URL, not scheme {scheme or 'none'!r}")
        return text

    @field_serializer("database_url", when_used="json")
    def _masked_url(self, value: DatabaseUrl | None) -> str | None:
        return None if value is None else str(value)  # the start-up log shows where, never the password

    @model_validator(mode="after")
    def _ban_lengths_ordered(self) -> KeeperSettings:
        if self.backoff_default_seconds > self.backoff_max_ban_seconds:
            raise ValueError(
                f"backoff_default_seconds {self.backoff_default_seconds} exceeds "
                f"backoff_max_ban_seconds {self.backoff_max_ban_seconds}"
            )
        return self

    @model_validator(mode="after")
    def _shard_in_range(self) -> KeeperSettings:
        if self.shard_index >= self.shard_count:
            raise ValueError(f"shard_index {self.shard_index} must be below shard_count {self.shard_count}")
        return self

    def for_network(self, choice: str) -> KeeperSettings:
        """These settings on the ape network ``choice``: on a local network (``ethereum:local:*``) every
        setting of ``LOCAL_DEFAULTS`` not given explicitly takes its local value."""
        if not is_local_network(choice):
            return self
        update = {name: value for name, value in LOCAL_DEFAULTS.items() if name not in self.model_fields_set}
        return self.model_copy(update=update)

    @property
    def head_watchdog_seconds(self) -> float:
        """The daemon's head-stall limit: ``watchdog_seconds``, or never (infinity) when it is 0."""
        return self.watchdog_seconds if self.watchdog_seconds > 0 else math.inf

    def deployment_record(self, choice: str | None = None) -> Path | None:
        """LG_DEPLOYMENT_FILE, else ``<deployments_dir>/<network>.json`` of the network ``choice`` when it
        exists (where `ape run deploy` wrote it and the ape scripts read it), else None."""
        if self.deployment_file is not None:
            return self.deployment_file
        name = None if choice is None else network_name(choice)
        if name is None:
            return None
        path = deployment_path(name, self.deployments_dir)
        return path if path.is_file() else None

    def resolved_contract_address(self, choice: str | None = None) -> str | None:
        """LG_CONTRACT_ADDRESS, else the proxy of the deployment record (``deployment_record``), else None."""
        if self.contract_address is not None:
            return self.contract_address
        record = self.deployment_record(choice)
        if record is None:
            return None
        try:
            proxy = json.loads(record.read_text())["proxy"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DeploymentFileError(record, f"{type(exc).__name__}: {exc}") from None
        if not isinstance(proxy, str) or not _ADDRESS.fullmatch(proxy):
            raise DeploymentFileError(record, f"proxy {proxy!r} is not an address")
        return proxy

    def redacted(self) -> dict[str, object]:
        """Every setting, for the start-up log line; SecretStr fields dump as '**********'."""
        return dict(self.model_dump(mode="json"))

    def policy(self) -> PolicyParams:
        return PolicyParams(
            coverage_ratio=self.coverage_ratio,
            claim_window_seconds=self.claim_window_seconds,
            cover_adl=self.cover_adl,
            max_payout_per_claim=self.max_payout_per_claim,
            token_decimals=self.token_decimals,
            policy_version=self.policy_version,
            settlement_currencies=self.settlement_currencies,
        )

    def account_registry(self) -> AccountRegistry:
        if self.accounts_json is not None:
            try:
                raw = json.loads(self.accounts_json.get_secret_value())
            except json.JSONDecodeError as exc:
                raise AccountsFileError(Path("<LG_ACCOUNTS_JSON>"), f"invalid JSON at {exc.pos}") from None
            return AccountRegistry.from_mapping(raw)
        if self.accounts_file is None:
            return AccountRegistry({})
        return AccountRegistry.from_file(self.accounts_file)

    def base_url(self, exchange: Exchange) -> str:
        urls = {
            Exchange.OKX: self.okx_base_url,
            Exchange.BINANCE: self.binance_base_url,
            Exchange.BYBIT: self.bybit_base_url,
        }
        try:
            return urls[exchange].rstrip("/")
        except KeyError:
            raise ValueError(f"no base URL setting for {exchange.slug}") from None


# LG_ variables that other programs of this repository read, not KeeperSettings: never reported as unknown.
OTHER_LG_VARIABLES = frozenset(
    {
        "LG_ACCOUNT_REF_SALT",  # operator_toolkit/registrar.py: the salt of the registrar's accountRefs
        "LG_TEST_DATABASE_URL",  # tests/keeper/conftest.py, tools/pg_cluster.py: the tests' PostgreSQL server
        "LG_PG_BIN",  # tools/pg_cluster.py: where Debian's PostgreSQL server binaries are
    }
)
OTHER_LG_PREFIXES = (
    "LG_SIM_",  # keeper/sim: every option of the exchange simulator (click's auto_envvar_prefix), LG_SIM_PORT
    "LG_TRADER",  # docs/signer-guide.md: the registrar's env:PREFIX credentials, e.g. LG_TRADER2_API_KEY
)
SUGGESTION_CUTOFF = 0.8
"""difflib ratio from which a setting is offered as the one meant: LG_CONFIRMATION gets LG_CONFIRMATIONS, an
unrelated LG_FOO nothing (every name shares the LG_ prefix, which lifts the ratio of any two)."""


@dataclass(frozen=True)
class UnknownVariable:
    """An environment variable with the settings' prefix that no setting reads (a misspelling, usually)."""

    name: str
    suggestion: str | None
    """The setting's variable closest to ``name``, when one is close."""

    def message(self) -> str:
        hint = f" (did you mean {self.suggestion}?)" if self.suggestion else ""
        return f"environment variable {self.name} is not a keeper setting and is ignored{hint}"


def unknown_variables(environ: Mapping[str, str], model: type[BaseSettings]) -> list[UnknownVariable]:
    """The names in ``environ`` with ``model``'s prefix that name none of its settings, sorted (as
    pydantic-settings matches them: whatever the case). Only names are read, never values."""
    prefix = str(model.model_config.get("env_prefix", "")).upper()
    known = sorted(prefix + name.upper() for name in model.model_fields)
    found = []
    for name in sorted(environ):
        upper = name.upper()
        if (
            not upper.startswith(prefix)
            or upper in known
            or upper in OTHER_LG_VARIABLES
            or upper.startswith(OTHER_LG_PREFIXES)
        ):
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=SUGGESTION_CUTOFF)
        found.append(UnknownVariable(name, close[0] if close else None))
    return found


def warn_unknown_variables(environ: Mapping[str, str]) -> list[UnknownVariable]:
    """A WARNING per unknown LG_ variable: pydantic-settings ignores them, so a misspelt setting would
    silently keep its default. The name only: the value may be a secret."""
    unknown = unknown_variables(environ, KeeperSettings)
    for variable in unknown:
        log.warning("%s", variable.message(), extra={"variable": variable.name})
    return unknown
