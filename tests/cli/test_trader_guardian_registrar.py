"""`ape run claim`, `ape run pause` and `ape run registrar` through click, against anvil."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_testkit import RunCli
from eth_utils.crypto import keccak
from lg_testkit import PAUSE_CLAIMS, PAUSE_PAYOUTS, USDT

SALT = "registrar-test-salt-0123456789"


def test_claim_file__insured_trader__claim_on_chain(run_cli: RunCli, insured: Any, trader: Any) -> None:
    result = run_cli(
        "claim",
        "file",
        "--exchange",
        "okx",
        "--order-id",
        "cli-order-1",
        "--instrument",
        "BTC-USDT-SWAP",
        "--loss",
        "1200.5 USDT",
        account=trader,
    )

    assert result.exit_code == 0, result.output
    claim_id = insured.claimCount()
    assert f"Claim #{claim_id} filed" in result.output
    claim = insured.getClaim(claim_id)
    assert (claim.user, claim.exchange, claim.claimedLoss) == (trader.address, 1, 1_200_500_000)
    status = run_cli("claim", "status", str(claim_id))
    assert status.exit_code == 0, status.output
    assert "Pending" in status.output and "1,200.5 USDT" in status.output


def test_claim_file__not_whitelisted__refused_before_chain(
    run_cli: RunCli, guard: Any, stranger: Any
) -> None:
    args = ("--exchange", "binance", "--order-id", "x-1", "--instrument", "BTCUSDT", "--loss", "10")
    result = run_cli("claim", "file", *args, account=stranger)

    assert result.exit_code == 1
    assert f"NotWhitelisted(user={stranger.address})" in result.output
    assert guard.claimCount() == 0


def test_pause__guardian__flags_set(run_cli: RunCli, guard: Any, guardian: Any) -> None:
    result = run_cli("pause", "claims,payouts", account=guardian)

    assert result.exit_code == 0, result.output
    assert "paused flags none -> claims|payouts" in result.output
    assert guard.pausedFlags() == PAUSE_CLAIMS | PAUSE_PAYOUTS


def test_pause__stranger__unauthorized(run_cli: RunCli, guard: Any, stranger: Any) -> None:
    result = run_cli("pause", "all", account=stranger)

    assert result.exit_code == 1
    assert f"Unauthorized(account={stranger.address})" in result.output
    assert guard.pausedFlags() == 0


def test_pause__unknown_flag__bad_parameter(run_cli: RunCli, guardian: Any) -> None:
    result = run_cli("pause", "claims,transfers", account=guardian)
    assert result.exit_code == 2
    assert "'transfers' is not a pause flag" in result.output


TRADERS = [f"0x{n:040x}" for n in (0xA1, 0xA2, 0xA3)]


def _whitelist_csv(path: Path, coverage_end: int, rows: list[tuple[str, str, str]] | None = None) -> Path:
    rows = rows or [
        (TRADERS[0], "okx", "uid-1"),
        (TRADERS[1], "binance", "uid-2"),
        (TRADERS[2], "okx", "uid-3"),
    ]
    lines = ["address,exchange,exchange_account_id,coverage_limit,coverage_end"]
    lines += [f"{a},{e},{i},5000 USDT,{coverage_end}" for a, e, i in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_registrar_whitelist__csv_in_batches__salted_refs(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    csv_file = _whitelist_csv(tmp_path / "traders.csv", coverage_end)

    result = run_cli("registrar", "whitelist", str(csv_file), "--batch-size", "2", account=registrar)

    assert result.exit_code == 0, result.output
    assert "Whitelisted 3 trader(s)." in result.output
    assert "uid-" not in result.output and SALT not in result.output
    for address, exchange, account_id in [(TRADERS[0], "okx", "uid-1"), (TRADERS[1], "binance", "uid-2")]:
        policy = guard.getPolicy(address)
        expected = keccak(SALT.encode() + b"\x00" + exchange.encode() + b"\x00" + account_id.encode())
        assert bytes(policy.accountRef) == expected
        assert (policy.coverageLimit, policy.coverageEnd) == (5_000 * USDT, coverage_end)

    again = run_cli("registrar", "whitelist", str(csv_file), account=registrar)
    assert again.exit_code == 0, again.output
    assert "3 trader(s) already whitelisted: skipped" in again.output


def test_registrar_whitelist__malformed_row__names_line_not_id(
    run_cli: RunCli, registrar: Any, coverage_end: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    rows = [(TRADERS[0], "okx", "uid-1"), ("0x1234", "okx", "secret-uid-2")]
    csv_file = _whitelist_csv(tmp_path / "bad.csv", coverage_end, rows)

    result = run_cli("registrar", "whitelist", str(csv_file), account=registrar)

    assert result.exit_code == 2
    assert "line 3: address: Value error, not an address" in result.output
    assert "secret-uid-2" not in result.output


def test_registrar_whitelist__no_salt__usage_error(
    run_cli: RunCli, registrar: Any, coverage_end: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LG_ACCOUNT_REF_SALT", raising=False)
    result = run_cli(
        "registrar", "whitelist", str(_whitelist_csv(tmp_path / "t.csv", coverage_end)), account=registrar
    )
    assert result.exit_code == 2
    assert "LG_ACCOUNT_REF_SALT" in result.output


def test_registrar_blacklist__csv__blacklisted(
    run_cli: RunCli, guard: Any, registrar: Any, stranger: Any, tmp_path: Path
) -> None:
    csv_file = tmp_path / "banned.csv"
    csv_file.write_text(f"address\n{TRADERS[0]}\n{stranger.address}\n")

    result = run_cli("registrar", "blacklist", str(csv_file), account=registrar)

    assert result.exit_code == 0, result.output
    assert guard.isBlacklisted(TRADERS[0]) and guard.isBlacklisted(stranger)


def test_registrar_whitelist__blacklisted_trader__refused_with_error(
    run_cli: RunCli,
    guard: Any,
    registrar: Any,
    coverage_end: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LG_ACCOUNT_REF_SALT", SALT)
    guard.addToBlacklist([TRADERS[2]], sender=registrar)

    result = run_cli(
        "registrar",
        "whitelist",
        str(_whitelist_csv(tmp_path / "t.csv", coverage_end)),
        "--batch-size",
        "2",
        account=registrar,
    )

    assert result.exit_code == 1
    assert (
        "batch 2 of 2 refused: UserBlacklisted(user=0x00000000000000000000000000000000000000A3)"
        in result.output
    )
    assert guard.isWhitelisted(TRADERS[0]) and not guard.isWhitelisted(TRADERS[2])
