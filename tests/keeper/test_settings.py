"""Settings from the environment and the accounts file, keyed by accountRef."""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from keeper.interface import Exchange
from keeper.settings import (
    AccountRegistry,
    AccountsFileError,
    DeploymentFileError,
    KeeperSettings,
    UnknownAccountError,
    is_local_network,
    network_name,
)
from operator_toolkit.deployment import DEPLOYMENTS_DIR, deployment_path

REF = "0x" + "0a" * 32
PROXY_A = "0x" + "a1" * 20
PROXY_B = "0x" + "b2" * 20
PROXY_C = "0x" + "c3" * 20


def test_settings__lg_environment__base_urls_accounts_and_policy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps({REF: {"exchange": "binance", "api_key": "k", "secret": "s"}}))
    monkeypatch.setenv("LG_OKX_BASE_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("LG_BINANCE_BASE_URL", "http://127.0.0.1:8")
    monkeypatch.setenv("LG_ACCOUNTS_FILE", str(accounts))
    monkeypatch.setenv("LG_COVERAGE_RATIO", "0.65")
    monkeypatch.setenv("LG_COVER_ADL", "true")
    settings = KeeperSettings(_env_file=None)
    assert settings.base_url(Exchange.OKX) == "http://127.0.0.1:9"
    assert settings.base_url(Exchange.BINANCE) == "http://127.0.0.1:8"
    assert settings.account_registry().lookup(REF.upper().replace("0X", "0x")).exchange is Exchange.BINANCE
    policy = settings.policy()
    assert (policy.coverage_ratio, policy.cover_adl, policy.token_decimals) == (Decimal("0.65"), True, 6)


def test_settings__dotenv_file__read_from_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("LG_OKX_BASE_URL=http://127.0.0.1:7\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LG_OKX_BASE_URL", raising=False)
    assert KeeperSettings().okx_base_url == "http://127.0.0.1:7"


def test_registry__unknown_account_ref__raises_unknown_account_with_ref() -> None:
    with pytest.raises(UnknownAccountError) as caught:
        AccountRegistry({}).lookup(REF)
    assert caught.value.account_ref == REF


def test_accounts_file__okx_without_passphrase__names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({REF: {"exchange": "okx", "api_key": "k", "secret": "s"}}))
    with pytest.raises(AccountsFileError, match="passphrase"):
        AccountRegistry.from_file(path)


def test_accounts_file__bad_account_ref__rejected_with_value(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"0x12": {"exchange": "binance", "api_key": "k", "secret": "s"}}))
    with pytest.raises(AccountsFileError, match="'0x12'"):
        AccountRegistry.from_file(path)


def test_accounts_file__not_json__error_names_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("{nope")
    with pytest.raises(AccountsFileError, match=r"a\.json"):
        AccountRegistry.from_file(path)


# --- the network the keeper runs on (issue 11, item 3)


def clean_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> KeeperSettings:
    for name in ("LG_CONFIRMATIONS", "LG_WATCHDOG_SECONDS", "LG_CONTRACT_ADDRESS", "LG_DEPLOYMENT_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return KeeperSettings(_env_file=None)


@pytest.mark.parametrize(
    ("choice", "confirmations", "watchdog", "head_limit"),
    [
        ("ethereum:local:foundry", 0, 0.0, math.inf),
        ("ethereum:local:test", 0, 0.0, math.inf),
        ("ethereum:local", 0, 0.0, math.inf),
        ("ethereum:sepolia:node", 2, 300.0, 300.0),
        ("ethereum:mainnet:node", 2, 300.0, 300.0),
        ("ethereum", 2, 300.0, 300.0),
    ],
)
def test_settings__per_network_defaults__local_counts_at_once_and_has_no_head_watchdog(
    monkeypatch: pytest.MonkeyPatch, choice: str, confirmations: int, watchdog: float, head_limit: float
) -> None:
    settings = clean_settings(monkeypatch).for_network(choice)
    assert (settings.confirmations, settings.watchdog_seconds) == (confirmations, watchdog)
    assert settings.head_watchdog_seconds == head_limit
    assert is_local_network(choice) is (confirmations == 0)


def test_settings__local_network_explicit_values__kept(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = clean_settings(monkeypatch, LG_CONFIRMATIONS="3", LG_WATCHDOG_SECONDS="45").for_network(
        "ethereum:local:foundry"
    )
    assert (settings.confirmations, settings.watchdog_seconds, settings.head_watchdog_seconds) == (
        3,
        45.0,
        45.0,
    )


def test_settings__negative_watchdog__rejected_with_value(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="watchdog_seconds") as caught:
        clean_settings(monkeypatch, LG_WATCHDOG_SECONDS="-1")
    assert caught.value.errors()[0]["input"] == "-1"


@pytest.mark.parametrize(
    ("choice", "name"),
    [
        ("ethereum:local:foundry", "local"),
        ("ethereum:sepolia:node", "sepolia"),
        ("ethereum", None),
        ("http://127.0.0.1:8545", None),
    ],
)
def test_network_name__of_a_choice__as_the_scripts_name_the_record(choice: str, name: str | None) -> None:
    assert network_name(choice) == name


def write_record(path: Path, proxy: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"network": path.stem, "proxy": proxy}))
    return path


def test_deployment__default_directory__found_as_the_ape_scripts_find_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    write_record(deployment_path("local", DEPLOYMENTS_DIR), PROXY_A)
    write_record(tmp_path / "deployments" / "sepolia.json", PROXY_B)
    settings = clean_settings(monkeypatch)
    assert settings.deployments_dir == Path("deployments")
    assert settings.deployment_record("ethereum:local:foundry") == Path("deployments/local.json")
    assert settings.resolved_contract_address("ethereum:local:foundry") == PROXY_A
    assert settings.resolved_contract_address("ethereum:sepolia:node") == PROXY_B
    assert settings.resolved_contract_address("ethereum:holesky:node") is None
    assert settings.resolved_contract_address() is None


def test_deployment__lg_deployments_dir__searched_instead(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_record(tmp_path / "elsewhere" / "local.json", PROXY_B)
    settings = clean_settings(monkeypatch, LG_DEPLOYMENTS_DIR=str(tmp_path / "elsewhere"))
    assert settings.resolved_contract_address("ethereum:local:foundry") == PROXY_B


def test_deployment__lg_deployment_file_and_contract_address__win_over_the_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    write_record(tmp_path / "deployments" / "local.json", PROXY_A)
    named = write_record(tmp_path / "named.json", PROXY_B)
    by_file = clean_settings(monkeypatch, LG_DEPLOYMENT_FILE=str(named))
    assert by_file.resolved_contract_address("ethereum:local:foundry") == PROXY_B
    by_address = clean_settings(monkeypatch, LG_CONTRACT_ADDRESS=PROXY_C, LG_DEPLOYMENT_FILE=str(named))
    assert by_address.resolved_contract_address("ethereum:local:foundry") == PROXY_C


def test_deployment__record_without_proxy__error_names_the_discovered_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    write_record(tmp_path / "deployments" / "local.json", "0x12")
    with pytest.raises(DeploymentFileError, match=r"deployments/local\.json: proxy '0x12' is not an address"):
        clean_settings(monkeypatch).resolved_contract_address("ethereum:local:foundry")


def test_settings__lg_settlement_currencies__comma_separated_upper_cased_into_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_SETTLEMENT_CURRENCIES", " usdt, fdusd ,USDC")
    settings = KeeperSettings(_env_file=None)
    assert settings.settlement_currencies == frozenset({"USDT", "FDUSD", "USDC"})
    assert settings.policy().settlement_currencies == frozenset({"USDT", "FDUSD", "USDC"})


def test_settings__no_settlement_currencies__usdt_and_usdc() -> None:
    assert KeeperSettings(_env_file=None).policy().settlement_currencies == frozenset({"USDT", "USDC"})


@pytest.mark.parametrize("value", ["", "USDT,,USDC"])
def test_settings__empty_settlement_currency__rejected_with_value(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("LG_SETTLEMENT_CURRENCIES", value)
    with pytest.raises(ValidationError, match="settlement_currencies"):
        KeeperSettings(_env_file=None)


def test_settings__clock_and_back_off__defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = KeeperSettings(_env_file=None)
    assert (
        defaults.clock_skew_alert_after,
        defaults.backoff_default_seconds,
        defaults.backoff_max_ban_seconds,
    ) == (3, 120.0, 259_200.0)
    monkeypatch.setenv("LG_CLOCK_SKEW_ALERT_AFTER", "5")
    monkeypatch.setenv("LG_BACKOFF_DEFAULT_SECONDS", "60")
    settings = KeeperSettings(_env_file=None)
    assert (settings.clock_skew_alert_after, settings.backoff_default_seconds) == (5, 60.0)


def test_settings__default_ban_longer_than_longest__rejected_with_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_BACKOFF_DEFAULT_SECONDS", "600")
    monkeypatch.setenv("LG_BACKOFF_MAX_BAN_SECONDS", "300")
    with pytest.raises(
        ValidationError,
        match=re.escape("backoff_default_seconds 600.0 exceeds backoff_max_ban_seconds 300.0"),
    ):
        KeeperSettings(_env_file=None)


# ------------------------------------------------------------------------------------------ Bybit


def _rsa_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def _ec_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_settings__bybit_base_url_and_recv_window__defaults_and_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    defaults = KeeperSettings(_env_file=None)
    assert (defaults.base_url(Exchange.BYBIT), defaults.bybit_recv_window_ms) == (
        "https://api.bybit.com",
        5000,
    )
    monkeypatch.setenv("LG_BYBIT_BASE_URL", "http://127.0.0.1:6/")
    monkeypatch.setenv("LG_BYBIT_RECV_WINDOW_MS", "9000")
    settings = KeeperSettings(_env_file=None)
    assert (settings.base_url(Exchange.BYBIT), settings.bybit_recv_window_ms) == ("http://127.0.0.1:6", 9000)


def test_settings__bybit_recv_window_over_a_minute__rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_BYBIT_RECV_WINDOW_MS", "60001")
    with pytest.raises(ValidationError, match="bybit_recv_window_ms"):
        KeeperSettings(_env_file=None)


def test_accounts_file__bybit_hmac_and_rsa_entries__both_key_kinds_load(tmp_path: Path) -> None:
    pem = _rsa_pem()
    other = "0x" + "0b" * 32
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(
            {
                REF: {"exchange": "bybit", "api_key": "k1", "secret": "s1"},
                other: {"exchange": "bybit", "api_key": "k2", "private_key_pem": pem},
            }
        )
    )
    registry = AccountRegistry.from_file(path)
    hmac_entry, rsa_entry = registry.lookup(REF), registry.lookup(other)
    assert (hmac_entry.exchange, hmac_entry.key_kind, hmac_entry.secret.get_secret_value()) == (
        Exchange.BYBIT,
        "hmac",
        "s1",
    )
    assert rsa_entry.key_kind == "rsa"
    assert rsa_entry.private_key_pem is not None and rsa_entry.private_key_pem.get_secret_value() == pem
    assert "PRIVATE KEY" not in repr(rsa_entry) and "s1" not in repr(hmac_entry)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"exchange": "bybit", "api_key": "k"}, "exactly one of secret"),
        ({"exchange": "bybit", "api_key": "k", "secret": "s", "private_key_pem": "PEM"}, "exactly one of"),
        ({"exchange": "binance", "api_key": "k"}, "need a secret"),
        (
            {"exchange": "binance", "api_key": "k", "secret": "s", "private_key_pem": "x"},
            "not a private_key_pem",
        ),
    ],
)
def test_accounts_file__key_kinds__exactly_one_for_bybit_secret_for_the_others(
    tmp_path: Path, entry: dict[str, str], message: str
) -> None:
    with pytest.raises(AccountsFileError, match=message) as caught:
        AccountRegistry.from_mapping({REF: entry})
    assert REF in str(caught.value)


@pytest.mark.parametrize(
    "pem", ["-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n", "ec"]
)
def test_accounts_file__bybit_pem_not_an_rsa_key__error_names_ref_never_the_key(pem: str) -> None:
    text = _ec_pem() if pem == "ec" else pem
    with pytest.raises(AccountsFileError) as caught:
        AccountRegistry.from_mapping({REF: {"exchange": "bybit", "api_key": "k", "private_key_pem": text}})
    message = str(caught.value)
    assert REF in message and "private_key_pem" in message
    assert text.splitlines()[1] not in message


def test_settings__lg_database_url__postgres_shown_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_DATABASE_URL", "postgresql://keeper:hunter2@db:5432/lg")

    settings = KeeperSettings(_env_file=None)

    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == "postgresql://keeper:hunter2@db:5432/lg"
    assert settings.redacted()["database_url"] == "postgresql://keeper:***@db:5432/lg"
    assert "hunter2" not in repr(settings) + str(settings)


@pytest.mark.parametrize("value", ["", "  "])
def test_settings__lg_database_url_empty__sqlite_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("LG_DATABASE_URL", value)
    assert KeeperSettings(_env_file=None).database_url is None


def test_settings__lg_database_url_not_postgres__rejected_never_quoting_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_DATABASE_URL", "mysql://keeper:hunter2@db/lg")
    with pytest.raises(ValidationError, match="database_url must be a postgresql:// URL") as caught:
        KeeperSettings(_env_file=None)
    assert "hunter2" not in str(caught.value)
