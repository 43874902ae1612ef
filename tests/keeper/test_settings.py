"""Settings from the environment and the accounts file, keyed by accountRef."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from keeper.interface import Exchange
from keeper.settings import AccountRegistry, AccountsFileError, KeeperSettings, UnknownAccountError

REF = "0x" + "0a" * 32


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
