"""The command-line contract as operators run it: ``python -m keeper verify`` and ``python -m keeper.sim``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange

EXCHANGE_SLUGS = {1: "okx", 2: "binance"}


def run_verify(
    sim: SimExchange, accounts_file: Path, cwd: Path, *args: str
) -> tuple[int, dict[str, Any], str]:
    env = {
        **os.environ,
        "LG_OKX_BASE_URL": sim.url,
        "LG_BINANCE_BASE_URL": sim.url,
        "LG_ACCOUNTS_FILE": str(accounts_file),
        "LG_MALFORMED_DUMP_DIR": str(cwd / "malformed"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "keeper", "verify", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    last_line = done.stdout.strip().splitlines()[-1]
    return done.returncode, json.loads(last_line), done.stderr


def claim_args(expected: ExpectedVerdict) -> list[str]:
    claim = expected.claim
    return [
        "--exchange",
        EXCHANGE_SLUGS[claim["exchange"]],
        "--order-id",
        claim["order_id"],
        "--instrument",
        claim["instrument"],
        "--account-ref",
        claim["account_ref"],
    ]


def find(scenarios: ScenarioFile, name: str) -> ExpectedVerdict:
    return next(e for e in scenarios.expected if e.scenario == name)


def test_cli_verify__liquidated_okx_order__prints_evidence_and_exits_0(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    expected = find(scenarios, "okx:partial_liquidation")
    code, out, _ = run_verify(sim, accounts_file, tmp_path, *claim_args(expected))
    assert code == 0
    assert out["evidence"]["liquidation"] == "partial"
    assert out["evidence"]["loss"] == expected.loss
    assert "decision" not in out


def test_cli_verify__with_claim_and_policy_options__prints_decision(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    expected = find(scenarios, "binance:full_liquidation")
    claim, policy = expected.claim, scenarios.policy
    code, out, _ = run_verify(
        sim,
        accounts_file,
        tmp_path,
        *claim_args(expected),
        "--claimed-loss", str(claim["claimed_loss"]),
        "--submitted-at", str(claim["submitted_at"]),
        "--coverage-start", str(claim["coverage_start"]),
        "--coverage-end", str(claim["coverage_end"]),
        "--remaining-coverage", str(claim["remaining_coverage"]),
        "--coverage-ratio", str(policy["coverage_ratio"]),
        "--claim-window-seconds", str(policy["claim_window_seconds"]),
        "--max-payout-per-claim", str(policy["max_payout_per_claim"]),
    )  # fmt: skip
    assert code == 0
    assert out["evidence"]["liquidation"] == "full"
    assert (out["decision"]["approved"], out["decision"]["payout"], out["decision"]["reason_code"]) == (
        True,
        expected.payout,
        0,
    )
    assert out["decision"]["evidence_hash"].startswith("0x") and len(out["decision"]["evidence_hash"]) == 66


def test_cli_verify__unknown_order__prints_not_found_and_exits_1(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    code, out, _ = run_verify(sim, accounts_file, tmp_path, *claim_args(find(scenarios, "okx:unknown_order")))
    assert (code, out["error"], out["reason_code"]) == (1, "not_found", 3)


def test_cli_verify__unknown_account__prints_unknown_account_and_exits_1(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    code, out, _ = run_verify(
        sim, accounts_file, tmp_path, *claim_args(find(scenarios, "binance:unknown_account"))
    )
    assert (code, out["error"], out["reason_code"]) == (1, "unknown_account", 4)


def test_cli_verify__malformed_account_ref__invalid_input_exit_2(
    sim: SimExchange, accounts_file: Path, tmp_path: Path
) -> None:
    args = [
        "--exchange",
        "okx",
        "--order-id",
        "1",
        "--instrument",
        "BTC-USDT-SWAP",
        "--account-ref",
        "0x1234",
    ]
    code, out, _ = run_verify(sim, accounts_file, tmp_path, *args)
    assert (code, out["error"]) == (2, "invalid_input")
    assert "0x1234" in out["detail"]


def test_sim_cli__generate_then_serve_on_port_0__prints_port_and_answers(tmp_path: Path) -> None:
    out = tmp_path / "scenarios.json"
    subprocess.run(
        [sys.executable, "-m", "keeper.sim", "generate", "--count", "6", "--seed", "3", "--out", str(out)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    accounts = json.loads((tmp_path / "scenarios.accounts.json").read_text())
    assert len(accounts) == len(ScenarioFile.load(out).accounts)
    server = subprocess.Popen(
        [sys.executable, "-m", "keeper.sim", "--port", "0", "--scenarios", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        reply = requests.get(f"http://127.0.0.1:{port}/fapi/v1/order?symbol=BTCUSDT", timeout=5)
        assert (reply.status_code, reply.json()["code"]) == (401, -2014)
    finally:
        server.terminate()
        server.wait(timeout=10)
