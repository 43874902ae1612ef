"""The registrar hands the keeper its credentials (issue 11, item 4): `ape run registrar whitelist
--keeper-accounts OUT.json` writes the keeper's entries keyed by the salted accountRef, and `python -m keeper
accounts check` reports, for every whitelisted trader on chain, whether those credentials exist and work
(against the simulated exchange). No secret appears in any output."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from support.cli import RunCli

from keeper.sim.generator import generate
from keeper.sim.scenarios import SimAccount
from keeper.sim.server import SimExchange
from operator_toolkit.registrar import account_ref

ROOT = Path(__file__).resolve().parents[2]
SALT = "handoff-test-salt-0123456789"
TRADERS = [str(to_checksum_address(f"0x{n:040x}")) for n in (0xB1, 0xB2, 0xB3, 0xB4)]
SCENARIOS = generate(12, 20261124)  # the simulator's accounts: which API keys and secrets it accepts
HEADER = "address,exchange,exchange_account_id,coverage_limit,coverage_end,keeper_credentials"


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    exchange = SimExchange(SCENARIOS).start()
    yield exchange
    exchange.stop()


def sim_account(sim: SimExchange, exchange: str, nth: int = 0) -> SimAccount:
    return [a for a in SCENARIOS.accounts if a.exchange == exchange and not a.simulated][nth]


def secrets_of(*accounts: SimAccount) -> list[str]:
    return [s for a in accounts for s in (a.api_key, a.secret, a.passphrase) if s] + [SALT]


def ref(exchange: str, account_id: str) -> str:
    return "0x" + account_ref(SALT.encode(), exchange, account_id).hex()


def write_csv(path: Path, coverage_end: int, rows: list[tuple[str, str, str, str]]) -> Path:
    lines = [HEADER] + [f"{a},{e},{i},5000 USDT,{coverage_end},{c}" for a, e, i, c in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def export_env(monkeypatch: pytest.MonkeyPatch, prefix: str, account: SimAccount, secret: str = "") -> None:
    monkeypatch.setenv(f"{prefix}_API_KEY", account.api_key)
    monkeypatch.setenv(f"{prefix}_SECRET", secret or account.secret)
    if account.passphrase is not None:
        monkeypatch.setenv(f"{prefix}_PASSPHRASE", account.passphrase)


def accounts_check(chain: Any, guard: Any, sim: SimExchange, accounts_file: Path, start: int) -> Any:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LG_", "LGT_"))}
    env |= {
        "APE_FOUNDRY_HOST": str(chain.provider.uri),
        "LG_ACCOUNTS_FILE": str(accounts_file),
        "LG_OKX_BASE_URL": sim.url,
        "LG_BINANCE_BASE_URL": sim.url,
        "LG_BYBIT_BASE_URL": sim.url,
        "LG_START_BLOCK": str(start),
        "LG_HTTP_RETRIES": "0",
        "LG_LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "keeper", "accounts", "check", "--network", "ethereum:local:foundry"]
    return subprocess.run(
        [*command, "--contract", str(guard.address)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def assert_no_secret(texts: list[str], secrets: list[str]) -> None:
    for secret in secrets:
        for text in texts:
            assert secret not in text


def test_whitelist_then_accounts_check__fresh_chain__every_trader_covered(
    run_cli: RunCli,
    chain: Any,
    guard: Any,
    registrar: Any,
    sim: SimExchange,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    okx, binance = sim_account(sim, "okx"), sim_account(sim, "binance")
    export_env(monkeypatch, "LGT_OKX", okx)
    (tmp_path / "binance.json").write_text(json.dumps({"api_key": binance.api_key, "secret": binance.secret}))
    csv_file = write_csv(
        tmp_path / "traders.csv",
        coverage_end,
        [
            (TRADERS[0], "okx", "uid-okx-1", "env:LGT_OKX"),
            (TRADERS[1], "binance", "uid-bn-1", "file:binance.json"),
        ],
    )
    out = tmp_path / "keeper" / "accounts.json"
    start = int(chain.blocks.head.number)

    result = run_cli(
        "registrar", "whitelist", str(csv_file), "--keeper-accounts", str(out), account=registrar
    )

    assert result.exit_code == 0, result.output
    okx_ref, binance_ref = ref("okx", "uid-okx-1"), ref("binance", "uid-bn-1")
    assert f"keeper credentials: line 2 {TRADERS[0]} okx accountRef {okx_ref}" in result.output
    assert f"keeper credentials: line 3 {TRADERS[1]} binance accountRef {binance_ref}" in result.output
    assert f"Keeper credentials for 2 accountRef(s) in {out} (mode 0600)." in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert json.loads(out.read_text()) == {
        okx_ref: {
            "exchange": "okx",
            "api_key": okx.api_key,
            "secret": okx.secret,
            "passphrase": okx.passphrase,
        },
        binance_ref: {"exchange": "binance", "api_key": binance.api_key, "secret": binance.secret},
    }

    done = accounts_check(chain, guard, sim, out, start)

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{TRADERS[0]} accountRef {okx_ref} okx: ok",
        f"{TRADERS[1]} accountRef {binance_ref} binance: ok",
        "2 whitelisted trader(s): 2 covered, 0 missing, 0 failing",
    ]
    assert_no_secret([result.output, done.stdout, done.stderr], secrets_of(okx, binance))


def test_accounts_check__missing_and_bad_credentials__reported_by_trader_and_ref_exit_1(
    run_cli: RunCli,
    chain: Any,
    guard: Any,
    registrar: Any,
    sim: SimExchange,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    good, bad = sim_account(sim, "okx", 0), sim_account(sim, "binance", 0)
    export_env(monkeypatch, "LGT_GOOD", good)
    export_env(monkeypatch, "LGT_BAD", bad, secret="not-the-secret-0123456789")
    csv_file = write_csv(
        tmp_path / "traders.csv",
        coverage_end,
        [
            (TRADERS[0], "okx", "uid-good", "env:LGT_GOOD"),
            (TRADERS[1], "binance", "uid-bad", "env:LGT_BAD"),
        ],
    )
    out = tmp_path / "accounts.json"
    start = int(chain.blocks.head.number)
    result = run_cli(
        "registrar", "whitelist", str(csv_file), "--keeper-accounts", str(out), account=registrar
    )
    assert result.exit_code == 0, result.output
    # A trader registered without --keeper-accounts: the keeper has nothing for its accountRef.
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "address,exchange,exchange_account_id,coverage_limit,coverage_end\n"
        f"{TRADERS[2]},okx,uid-missing,5000 USDT,{coverage_end}\n"
    )
    assert run_cli("registrar", "whitelist", str(plain), account=registrar).exit_code == 0

    done = accounts_check(chain, guard, sim, out, start)

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"{TRADERS[0]} accountRef {ref('okx', 'uid-good')} okx: ok"
    assert lines[1] == (
        f"{TRADERS[1]} accountRef {ref('binance', 'uid-bad')} binance: failing (credentials refused: "
        "binance GET /fapi/v1/order: HTTP 400 code -1022: Signature for this request is not valid.)"
    )
    assert lines[2:] == [
        f"{TRADERS[2]} accountRef {ref('okx', 'uid-missing')} -: "
        "missing (no credentials for this accountRef)",
        "3 whitelisted trader(s): 1 covered, 1 missing, 1 failing",
    ]
    secrets = [*secrets_of(good, bad), "not-the-secret-0123456789"]
    assert_no_secret([result.output, done.stdout, done.stderr], secrets)


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "sk-live-0123456789abcdef",
            "keeper_credentials must be env:PREFIX or file:PATH (the secret itself never goes in the CSV)",
        ),
        (
            "env:LGT_NOPE",
            "'env:LGT_NOPE': environment variable(s) LGT_NOPE_API_KEY, "
            "LGT_NOPE_SECRET or LGT_NOPE_PRIVATE_KEY_PEM not set",
        ),
        ("env:LGT_OKX_NOPASS", "'env:LGT_OKX_NOPASS': entry: Value error, OKX credentials need a passphrase"),
    ],
)
def test_whitelist_keeper_accounts__bad_credential_source__exit_2_nothing_sent_nothing_written(
    run_cli: RunCli,
    chain: Any,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    reference: str,
    message: str,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    monkeypatch.delenv("LGT_NOPE_API_KEY", raising=False)
    monkeypatch.delenv("LGT_NOPE_SECRET", raising=False)
    monkeypatch.setenv("LGT_OKX_NOPASS_API_KEY", "okx-key-without-passphrase")
    monkeypatch.setenv("LGT_OKX_NOPASS_SECRET", "okx-secret-without-passphrase")
    csv_file = write_csv(tmp_path / "t.csv", coverage_end, [(TRADERS[3], "okx", "uid-x", reference)])
    out = tmp_path / "accounts.json"
    block, nonce = int(chain.blocks.head.number), registrar.nonce

    result = run_cli(
        "registrar", "whitelist", str(csv_file), "--keeper-accounts", str(out), account=registrar
    )

    assert result.exit_code == 2
    assert f"{csv_file} line 2: {message}" in " ".join(result.output.split())
    assert (int(chain.blocks.head.number), registrar.nonce) == (block, nonce)
    assert not out.exists()
    assert not bool(guard.getPolicy(TRADERS[3]).whitelisted)
    for secret in ("sk-live-0123456789abcdef", "okx-key-without-passphrase", "okx-secret-without-passphrase"):
        assert secret not in result.output


def test_resolve_credentials__bybit_rsa_key_from_file__keeper_entry_carries_the_pem_not_a_secret(
    tmp_path: Path,
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from operator_toolkit.registrar import keeper_entry_json, resolve_credentials

    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    (tmp_path / "bybit.json").write_text(json.dumps({"api_key": "bybit-key-1", "private_key_pem": pem}))

    credentials = resolve_credentials("file:bybit.json", "bybit", tmp_path, {})

    assert keeper_entry_json(credentials) == {
        "exchange": "bybit",
        "api_key": "bybit-key-1",
        "private_key_pem": pem,
    }
    assert pem not in repr(credentials)


def test_resolve_credentials__bybit_rsa_key_from_environment__accepted_without_a_secret() -> None:
    from operator_toolkit.registrar import resolve_credentials

    environ = {"LGT_BY_API_KEY": "bybit-key-2", "LGT_BY_PRIVATE_KEY_PEM": "not a pem"}
    with pytest.raises(ValueError, match="private_key_pem does not load") as raised:
        resolve_credentials("env:LGT_BY", "bybit", Path("."), environ)
    assert "not a pem" not in str(raised.value)
