"""No secret in a repr, a dump, an exception or a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from keeper.evidence import ClaimInput
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.settings import AccountCredentials, AccountRegistry, AccountsFileError, KeeperSettings
from keeper.sim.scenarios import ScenarioFile
from keeper.sim.server import SimExchange
from keeper.verification import VerificationRequest

# The keeper's default claim window: the span a claim's liquidation can fall in.
CLAIM_WINDOW_SECONDS: int = KeeperSettings.model_fields["claim_window_seconds"].default

API_KEY = "key-5f0c7e1d9a"
SECRET = "secret-0f9e8d7c6b5a"
PASSPHRASE = "pass-phrase-314159"
REF = "0x" + "cd" * 32


def _creds() -> AccountCredentials:
    return AccountCredentials.model_validate(
        {"exchange": "okx", "api_key": API_KEY, "secret": SECRET, "passphrase": PASSPHRASE}
    )


def _assert_clean(text: str) -> None:
    for value in (API_KEY, SECRET, PASSPHRASE):
        assert value not in text


def test_credentials__repr_str_and_dumps__hide_every_secret() -> None:
    creds = _creds()
    _assert_clean(
        repr(creds) + str(creds) + creds.model_dump_json() + json.dumps(creds.model_dump(mode="json"))
    )
    _assert_clean(repr(AccountRegistry({REF: creds})))


def test_settings__accounts_json__repr_hides_it() -> None:
    raw = json.dumps(
        {REF: {"exchange": "okx", "api_key": API_KEY, "secret": SECRET, "passphrase": PASSPHRASE}}
    )
    settings = KeeperSettings(_env_file=None, accounts_json=raw)
    _assert_clean(repr(settings) + str(settings.model_dump()))
    assert settings.account_registry().lookup(REF).secret.get_secret_value() == SECRET


def test_accounts_file__invalid_entry__error_names_field_not_secret(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(
        json.dumps({REF: {"exchange": "okx", "api_key": API_KEY, "secret": SECRET, "extra": PASSPHRASE}})
    )
    with pytest.raises(AccountsFileError) as caught:
        AccountRegistry.from_file(path)
    assert "extra" in str(caught.value)
    _assert_clean(str(caught.value) + repr(caught.value))


def test_verify__auth_failure_and_success__logs_and_outcomes_hold_no_secret(
    scenarios: ScenarioFile,
    sim: SimExchange,
    keeper_settings: KeeperSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    expected = next(e for e in scenarios.expected if e.scenario == "okx:full_liquidation")
    request = VerificationRequest.for_claim(ClaimInput.model_validate(expected.claim), CLAIM_WINDOW_SECONDS)
    real = keeper_settings.account_registry().lookup(request.account_ref)
    accounts = AccountRegistry({request.account_ref: real})
    good = Verifier(accounts, AdapterRegistry(keeper_settings)).verify(request)
    wrong = real.model_copy(update={"secret": type(real.secret)(SECRET)})
    bad = Verifier(AccountRegistry({request.account_ref: wrong}), AdapterRegistry(keeper_settings)).verify(
        request
    )
    assert (good.status.value, bad.error) == ("verified", "authentication")
    secrets = [
        real.api_key.get_secret_value(),
        real.secret.get_secret_value(),
        real.passphrase.get_secret_value() if real.passphrase else "",
        SECRET,
    ]
    text = caplog.text + good.model_dump_json() + bad.model_dump_json() + bad.detail
    assert caplog.text  # the transport and sim did log at DEBUG, so the check below has something to search
    for secret in secrets:
        assert secret not in text
