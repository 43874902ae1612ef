"""The command-line contract as operators run it: ``python -m keeper verify`` and ``python -m keeper.sim``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from support.keeper_world import ROOT, KeeperWorld

from keeper.cli import cli
from keeper.daemon import EXIT_CONFIG, EXIT_OK
from keeper.evidence import ReviewCause
from keeper.interface import ClaimStatus, ReasonCode
from keeper.sim.onchain import pick_claims
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.store import ClaimRecord, SqliteStore
from operator_toolkit.keeper_process import KeeperProcess

GUIDE_VALIDATOR = "TEST::4"  # the signer guide's validator (tests/conftest.py: accounts[4])


def run_verify(
    sim: SimExchange, accounts_file: Path, cwd: Path, *args: str
) -> tuple[int, dict[str, Any], str]:
    env = {
        **os.environ,
        "LG_OKX_BASE_URL": sim.url,
        "LG_BINANCE_BASE_URL": sim.url,
        "LG_BYBIT_BASE_URL": sim.url,
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


def claim_args(expected: ExpectedVerdict, *claim_fields: str) -> list[str]:
    """The order's options, plus ``--<field> value`` for each named claim field (e.g. claimed_loss)."""
    claim = expected.claim
    args = [
        "--exchange",
        claim["exchange"],
        "--order-id",
        claim["order_id"],
        "--instrument",
        claim["instrument"],
        "--account-ref",
        claim["account_ref"],
    ]
    for name in claim_fields:
        args += [f"--{name.replace('_', '-')}", str(claim[name])]
    return args


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
    policy = scenarios.policy
    code, out, _ = run_verify(
        sim,
        accounts_file,
        tmp_path,
        *claim_args(
            expected, "claimed_loss", "submitted_at", "coverage_start", "coverage_end", "remaining_coverage"
        ),
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


def test_cli_verify__unknown_account_with_claim__still_prints_the_unknown_account_rejection(
    sim: SimExchange, scenarios: ScenarioFile, accounts_file: Path, tmp_path: Path
) -> None:
    """The daemon sends such a claim to a person; the command's output is the contract scripts rely on."""
    expected = find(scenarios, "okx:unknown_account")
    code, out, _ = run_verify(
        sim, accounts_file, tmp_path, *claim_args(expected, "claimed_loss", "submitted_at")
    )
    assert (code, out["error"], out["reason_code"]) == (1, "unknown_account", 4)
    assert (out["decision"]["approved"], out["decision"]["reason_code"]) == (False, 4)
    assert "review" not in out and "cause" not in out


def test_cli_verify__order_older_than_okx_keeps__manual_review_with_cause_exit_3(
    edge_sim: SimExchange, edge: ScenarioFile, edge_accounts: Path, tmp_path: Path
) -> None:
    """Before: "not found" was a final ORDER_NOT_FOUND (exit 1) even when OKX had only aged the order out."""
    expected = find(edge, "okx:unknown_order_span_older_than_3_months")
    code, out, _ = run_verify(edge_sim, edge_accounts, tmp_path, *claim_args(expected, "submitted_at"))
    assert (code, out["error"], out["cause"], out["status"]) == (
        3,
        "manual_review",
        "aged_out",
        "needs_review",
    )
    assert "reason_code" not in out


def test_cli_verify__inverse_contract__evidence_in_btc_and_unsupported_settlement_rejection(
    edge_sim: SimExchange, edge: ScenarioFile, edge_accounts: Path, tmp_path: Path
) -> None:
    """Before: a loss of 0.5 BTC was paid as 0.5 stablecoin units x 10^decimals."""
    expected = find(edge, "okx:inverse_settles_in_btc")
    fields = ("claimed_loss", "submitted_at", "coverage_start", "coverage_end")
    code, out, _ = run_verify(edge_sim, edge_accounts, tmp_path, *claim_args(expected, *fields))
    assert (code, out["status"], out["evidence"]["settlement_currency"]) == (0, "verified", "BTC")
    assert (out["decision"]["approved"], out["decision"]["payout"], out["decision"]["reason_code"]) == (
        False,
        0,
        int(ReasonCode.UNSUPPORTED_SETTLEMENT),
    )


def _store_with(path: Path, *claims: tuple[int, int]) -> SqliteStore:
    """A store holding claims (claim id, exchange id), all just recorded."""
    store = SqliteStore(path)
    records = [
        ClaimRecord(
            claim_id=claim_id,
            user="0x" + "11" * 20,
            exchange=exchange,
            account_ref="0x" + "cd" * 32,
            order_id="1",
            instrument="BTC-USDT-SWAP",
            claimed_loss=5,
            block_number=1,
            log_index=claim_id,
        )
        for claim_id, exchange in claims
    ]
    store.record_claims(records, cursor=1)
    return store


def test_cli_review_decide__bad_input_or_claim_not_in_review__refused_before_touching_the_chain(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keeper.sqlite3"
    store = _store_with(path, (3, 1), (4, 1))
    store.to_review(4, ReviewCause.AGED_OUT, "older than OKX keeps", [], now=1)
    store.close()
    env = {"LG_DATABASE_PATH": str(path), "LG_CONTRACT_ADDRESS": "0x" + "22" * 20}
    base = ["review", "decide", "--reviewer", "alice", "--note", "n", "--network", "ethereum:local:foundry"]

    def decide(*args: str) -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(cli, [*base, *args], env=env)
        return result.exit_code, json.loads(result.output.splitlines()[-1])

    both = decide("4", "--approve", "5", "--reject", "ORDER_NOT_FOUND")
    veto = decide("4", "--reject", "GUARDIAN_VETO")
    unknown_reason = decide("4", "--reject", "BECAUSE")
    bad_amount = decide("4", "--approve", "12 USDT 5")
    not_in_review = decide("3", "--reject", "ORDER_NOT_FOUND")
    unknown_claim = decide("9", "--reject", "ORDER_NOT_FOUND")

    assert [(code, out["error"]) for code, out in (both, veto, unknown_reason, bad_amount)] == [
        (2, "invalid_input")
    ] * 4
    assert "GUARDIAN_VETO is not a rejection a reviewer can make" in veto[1]["detail"]
    assert not_in_review == (
        1,
        {"error": "not_in_review", "detail": "claim 3 is recorded, not in manual review"},
    )
    assert (unknown_claim[0], unknown_claim[1]["error"]) == (1, "not_in_review")


def test_cli_evidence_export__claim_in_review__no_decision_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "keeper.sqlite3"
    store = _store_with(path, (4, 2))
    store.to_review(4, ReviewCause.FEE_CURRENCY, "BNB commission", [], now=1)
    store.close()

    result = CliRunner().invoke(cli, ["evidence", "export", "4", "--database", str(path)])

    assert (result.exit_code, json.loads(result.output)) == (
        1,
        {"error": "no_decision", "detail": "claim 4 is manual_review: no decision to export"},
    )


def test_cli_review_and_evidence__store_without_reviews__empty_list_and_export_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keeper.sqlite3"
    store = SqliteStore(path)
    store.record_claims([], cursor=1)
    store.close()
    runner = CliRunner()
    env = {"LG_DATABASE_PATH": str(path)}

    listed = runner.invoke(cli, ["review", "list", "--json"], env=env)
    missing = runner.invoke(cli, ["evidence", "export", "9"], env=env)
    show = runner.invoke(cli, ["review", "show", "9"], env=env)

    assert (listed.exit_code, json.loads(listed.output)) == (0, [])
    assert (missing.exit_code, json.loads(missing.output)["error"]) == (1, "unknown_claim")
    assert (show.exit_code, json.loads(show.output)["error"]) == (1, "unknown_claim")


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


def test_sim_cli__generate_edge_cases__every_claim_has_a_verdict_or_a_review_cause(tmp_path: Path) -> None:
    out = tmp_path / "edge.json"
    subprocess.run(
        [sys.executable, "-m", "keeper.sim", "generate", "--edge-cases", "--seed", "3", "--out", str(out)],
        check=True,
        timeout=60,
        capture_output=True,
    )
    edge = ScenarioFile.load(out)
    assert {"aged_out", "instrument_not_live", "fee_currency", "unmatched_penalty"} <= {
        e.review_cause for e in edge.expected
    }
    assert all((e.reason_code is None) != (e.review_cause is None) for e in edge.expected)


def test_sim_cli__generate_without_count_or_edge_cases__usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "keeper.sim", "generate", "--seed", "3", "--out", str(tmp_path / "x.json")],
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert (result.returncode, "give --count N or --edge-cases" in result.stderr) == (2, True)


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
