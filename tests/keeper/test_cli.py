"""The command-line contract as operators run it: ``python -m keeper verify`` and ``python -m keeper.sim``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from keeper_world import ROOT, KeeperWorld

from keeper.daemon import EXIT_CONFIG, EXIT_OK
from keeper.interface import ClaimStatus
from keeper.sim.onchain import pick_claims
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore
from ops.keeper_process import KeeperProcess

GUIDE_VALIDATOR = "TEST::4"  # the signer guide's validator (tests/conftest.py: accounts[4])


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
        claim["exchange"],
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


# --- `python -m keeper run` on the signer guide's local chain (issue 11, item 3)


def guide_env(world: KeeperWorld, name: str, deployments: Path, **settings: Any) -> dict[str, str]:
    """The keeper's environment as the signer guide sets it on anvil: no LG_CONFIRMATIONS, no watchdog
    setting, no contract address (found in ``<deployments>/local.json``), a test account, no passphrase."""
    env = world.keeper_env(GUIDE_VALIDATOR, name, deployments_dir=deployments, **settings)
    for variable in ("LG_CONFIRMATIONS", "LG_WATCHDOG_SECONDS", "LG_CONTRACT_ADDRESS", "LG_DEPLOYMENT_FILE"):
        if variable.lower().removeprefix("lg_") not in settings:
            env.pop(variable, None)
    env.pop(f"APE_ACCOUNTS_{GUIDE_VALIDATOR}_PASSPHRASE")
    return env


def test_keeper_run_once__guide_local_settings__decides_every_claim_the_last_included(
    keeper_world: Any, chain: Any, validator: Any, tmp_path: Path
) -> None:
    assert str(chain.provider.network.name) == "local"
    world: KeeperWorld = keeper_world(60)
    picked = pick_claims(world.scenarios, 4, first=("okx:full_liquidation", "binance:full_liquidation"))
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)
    deployments = tmp_path / "deployments"
    deployments.mkdir()
    (deployments / "local.json").write_text(
        json.dumps({"network": "local", "proxy": str(world.guard.address)})
    )

    # With the 2 confirmations of a real network, anvil (a block per transaction, none in between) never
    # confirms the last two claims: nothing mines after them.
    waiting = guide_env(world, "guide", deployments, confirmations=2)
    keeper = KeeperProcess(waiting, GUIDE_VALIDATOR, tmp_path / "confirmations.log", once=True).start()
    assert keeper.wait(timeout=120) == EXIT_OK
    assert [world.status(f) for f in world.filed[-2:]] == [ClaimStatus.PENDING] * 2
    assert ClaimStatus.PENDING not in [world.status(f) for f in world.filed[:-2]]

    # The guide's settings: on ethereum:local:foundry the keeper counts every block at once.
    keeper = KeeperProcess(
        guide_env(world, "guide", deployments), GUIDE_VALIDATOR, tmp_path / "guide.log", once=True
    )
    assert keeper.start().wait(timeout=120) == EXIT_OK
    world.assert_verdicts_match_generator(paid=False)
    started = next(r for r in keeper.log_records() if r.get("msg") == "keeper starting")
    assert (started["account"], started["contract"]) == (GUIDE_VALIDATOR, str(world.guard.address))
    assert (started["settings"]["confirmations"], started["settings"]["watchdog_seconds"]) == (0, 0.0)
    store = SqliteStore(tmp_path / "guide.sqlite3")
    sent = store.transactions()
    store.close()
    assert sorted(c for tx in sent for c in tx.claim_ids) == sorted(f.claim_id for f in world.filed)
    assert {str(chain.get_receipt(tx.tx_hash).sender) for tx in sent} == {str(validator.address)}


def run_keeper(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "keeper", "run", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def bare_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LG_")}
    return env | {"LG_DEPLOYMENTS_DIR": str(tmp_path / "deployments"), **settings}


def test_keeper_run__test_account_off_a_local_network__exit_2_before_any_rpc(tmp_path: Path) -> None:
    done = run_keeper(bare_env(tmp_path), "--network", "ethereum:sepolia:node", "--account", "TEST::4")
    assert done.returncode == 2
    assert (
        "Invalid value for '--account': test account 'TEST::4' on 'ethereum:sepolia:node': "
        "test accounts are for ethereum:local:* only"
    ) in done.stderr


def test_keeper_run__malformed_test_account__exit_2_naming_it(tmp_path: Path) -> None:
    done = run_keeper(bare_env(tmp_path), "--network", "ethereum:local:foundry", "--account", "TEST::four")
    assert done.returncode == 2
    assert "'TEST::four' is not a test account: TEST:: takes an index, e.g. TEST::4" in done.stderr


def test_keeper_run__no_deployment_record__config_exit_names_the_expected_file(tmp_path: Path) -> None:
    done = run_keeper(bare_env(tmp_path), "--network", "ethereum:local:foundry", "--account", "TEST::4")
    assert done.returncode == EXIT_CONFIG
    expected = tmp_path / "deployments" / "local.json"
    assert done.stderr.strip() == (
        "configuration error: no contract: pass --contract, or set LG_CONTRACT_ADDRESS or LG_DEPLOYMENT_FILE"
        f" (none at {expected}: run `ape run deploy`)"
    )
