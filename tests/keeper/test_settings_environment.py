"""Unknown LG_ environment variables: named at start-up with the setting meant, never with their values."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from keeper.app import ConfigurationError, load_settings
from keeper.settings import (
    OTHER_LG_PREFIXES,
    OTHER_LG_VARIABLES,
    KeeperSettings,
    UnknownVariable,
    unknown_variables,
    warn_unknown_variables,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-do-not-log"


def test_unknown_variables__misspelt_setting__named_with_the_setting_meant() -> None:
    environ = {"LG_CONFIRMATION": "3", "LG_CONTRACT_ADRESS": "0x" + "ab" * 20, "LG_NOT_A_THING": "1"}

    assert unknown_variables(environ, KeeperSettings) == [
        UnknownVariable("LG_CONFIRMATION", "LG_CONFIRMATIONS"),
        UnknownVariable("LG_CONTRACT_ADRESS", "LG_CONTRACT_ADDRESS"),
        UnknownVariable("LG_NOT_A_THING", None),
    ]


def test_unknown_variables__settings_other_programs_and_other_prefixes__none_reported() -> None:
    environ = {
        "LG_CONFIRMATIONS": "3",
        "lg_poll_interval_seconds": "5",  # pydantic-settings reads it whatever the case
        "LG_ACCOUNT_REF_SALT": SECRET,
        "LG_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "LG_PG_BIN": "/usr/lib/postgresql/15/bin",
        "LG_SIM_PORT": "8080",
        "LG_TRADER2_API_KEY": SECRET,
        "APE_ACCOUNTS_validator_PASSPHRASE": SECRET,
        "PATH": "/usr/bin",
    }

    assert unknown_variables(environ, KeeperSettings) == []


def test_warn_unknown_variables__one_warning_per_name__value_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="keeper.settings"):
        found = warn_unknown_variables({"LG_ACCOUNTS_JSN": SECRET, "LG_DATABASE_ULR": SECRET})

    assert [v.name for v in found] == ["LG_ACCOUNTS_JSN", "LG_DATABASE_ULR"]
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            "environment variable LG_ACCOUNTS_JSN is not a keeper setting and is ignored "
            "(did you mean LG_ACCOUNTS_JSON?)",
        ),
        (
            "WARNING",
            "environment variable LG_DATABASE_ULR is not a keeper setting and is ignored "
            "(did you mean LG_DATABASE_URL?)",
        ),
    ]
    assert SECRET not in caplog.text


def test_load_settings__misspelt_contract_address__warned_before_the_configuration_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The keeper refuses to start without a contract; the warning names the variable that was meant."""
    for name in [name for name in os.environ if name.upper().startswith("LG_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LG_CONTRACT_ADRESS", "0x" + "ab" * 20)
    monkeypatch.chdir(ROOT / "docs")  # no .env there, and no deployments/

    with caplog.at_level(logging.WARNING, logger="keeper.settings"), pytest.raises(ConfigurationError):
        load_settings(None)

    assert [r.getMessage() for r in caplog.records] == [
        "environment variable LG_CONTRACT_ADRESS is not a keeper setting and is ignored "
        "(did you mean LG_CONTRACT_ADDRESS?)"
    ]


def test_other_lg_variables__every_lg_name_in_the_code__a_setting_or_allowed() -> None:
    """A new LG_ variable read outside KeeperSettings must join the allow-list, or every keeper start-up
    would warn about it. (f-strings and prose are not seen: a name must be a string literal of its own.)"""
    settings = {f"LG_{name.upper()}" for name in KeeperSettings.model_fields}
    names: dict[str, str] = {}
    for folder in ("keeper", "operator_toolkit", "scripts", "tools", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == Path(__file__).resolve():
                continue  # this file's misspellings are deliberate
            # Quoted names only (environ.get("LG_X"), setenv("LG_X", ...), {"LG_X": ...}): prose is no read.
            for name in re.findall(r"[\"'](LG_[A-Z][A-Z0-9_]*[A-Z0-9])[\"']", path.read_text()):
                names.setdefault(name, str(path.relative_to(ROOT)))
    unexplained = {
        name: where
        for name, where in names.items()
        # name + "_": a prefix itself (click's auto_envvar_prefix="LG_SIM") is allowed with its variables
        if name not in settings
        and name not in OTHER_LG_VARIABLES
        and not (name + "_").startswith(OTHER_LG_PREFIXES)
    }

    assert unexplained == {}
