"""The keeper as operators run it: `python -m keeper run` processes against anvil and the simulator, signing
with an encrypted ape keystore whose passphrase comes from the environment.

SIGKILL at random points and restarts, two keepers on one contract, SIGTERM, the instance lock, the
no-new-block watchdog, and the metrics / health endpoints of a live process."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

from support.keeper_world import CHALLENGE_PERIOD, KeeperWorld, wait_until
from support.rpc_proxy import SwitchableProxy

from keeper.audit_log import verify_audit_log
from keeper.daemon import EXIT_CONFIG, EXIT_HEAD_STALLED, EXIT_LOCKED, EXIT_OK
from keeper.interface import DEFAULT_CLAIM_GRACE_PERIOD, ClaimStatus
from keeper.sim.faults import FaultConfig
from keeper.sim.onchain import pick_claims
from keeper.sim.scenarios import ExpectedVerdict
from keeper.store import SqliteStore, TxKind
from operator_toolkit.keeper_process import KeeperProcess

KILLS = 20
KILL_SEED = 20_261_124


LIQUIDATIONS = ("okx:full_liquidation", "binance:full_liquidation", "okx:partial_liquidation")


def verdict_claims(world: KeeperWorld, count: int) -> list[ExpectedVerdict]:
    """`count` generated claims the keeper decides alone (a claim for an account it holds no credentials for
    waits for a person instead, see test_review_desk.py), the liquidations first."""
    picked = [
        e for e in pick_claims(world.scenarios, 10 * count, first=LIQUIDATIONS) if e.review_cause is None
    ]
    assert len(picked) >= count
    return picked[:count]


def seed_claims(world: KeeperWorld, count: int) -> None:
    """Files `count` generated claims, approvals among them."""
    picked = verdict_claims(world, count)
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)


def decided(world: KeeperWorld) -> bool:
    return all(world.status(f) is not ClaimStatus.PENDING for f in world.filed)


def events_per_claim(guard: Any, event: str) -> Counter[int]:
    head = int(guard.chain_manager.blocks.head.number)
    return Counter(int(log.claimId) for log in getattr(guard, event).range(0, head + 1))


def failed_transactions_from(chain: Any, address: str, since: int) -> list[str]:
    """Hashes of mined transactions sent by `address` since block `since` that reverted."""
    failed = []
    for block in chain.blocks.range(since, int(chain.blocks.head.number) + 1):
        for tx in block.transactions:
            if str(tx.sender) == str(address):
                receipt = chain.get_receipt(
                    tx.txn_hash.hex() if isinstance(tx.txn_hash, bytes) else tx.txn_hash
                )
                if receipt.failed:
                    failed.append(str(receipt.txn_hash))
    return failed


def assert_exactly_once(world: KeeperWorld) -> None:
    ids = [f.claim_id for f in world.filed]
    approved = [f.claim_id for f in world.filed if f.expected.reason_code == 0]
    assert events_per_claim(world.guard, "ClaimVerified") == Counter(ids)
    assert events_per_claim(world.guard, "PayoutExecuted") == Counter(approved)
    world.assert_verdicts_match_generator(paid=True)


def scrape(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


def test_keeper_process__sigkill_at_random_points__every_claim_decided_and_paid_exactly_once(
    keeper_world: Any, keystore_validator: Any, chain: Any, tmp_path: Any
) -> None:
    # Exchange latency stretches each pass, so kills land inside fetches, posts and payouts as well.
    world: KeeperWorld = keeper_world(160)  # 24 claims, one per exchange account
    world.sim.set_faults(FaultConfig(latency_ms=25))
    seed_claims(world, 24)
    alias, account = keystore_validator()
    start_block = int(chain.blocks.head.number)
    env = world.keeper_env(alias, "killed", verify_batch_size=3, payout_batch_size=3, verify_workers=2)
    rng = random.Random(KILL_SEED)

    for kill in range(KILLS):
        keeper = KeeperProcess(env, alias, tmp_path / f"killed-{kill}.log").start()
        if kill % 5 == 0:
            time.sleep(rng.uniform(0.3, 2.0))  # inside start-up (2-3 s here, longer on a loaded machine)
        else:
            # Timed from the loop's start, not the process's, so that on any machine the kills land in
            # ingest, verification, posting and paying (a pass of this world takes about 2 s).
            keeper.wait_for_message("keeper loop started", 60)
            time.sleep(rng.uniform(0.0, 2.5))
        keeper.kill()
        if kill % 4 == 3:
            world.advance(CHALLENGE_PERIOD)  # approvals become payable between restarts
    store = SqliteStore(tmp_path / "killed.sqlite3")
    kinds_before_final_run = {t.kind for t in store.transactions()}
    store.close()

    with KeeperProcess(env, alias, tmp_path / "final.log") as keeper:
        keeper.wait_for_log(lambda r: str(r.get("msg", "")).startswith("keeper loop started"), 60)
        wait_until(lambda: decided(world), 90, "every claim decided")
        world.advance(CHALLENGE_PERIOD)
        wait_until(world.settled, 90, "every approval paid")
        assert keeper.terminate() == EXIT_OK

    # The kills interrupted real work: verdicts and payouts were sent between them.
    assert kinds_before_final_run == {TxKind.VERIFY, TxKind.PAYOUT}
    assert_exactly_once(world)
    assert failed_transactions_from(chain, account.address, start_block) == []
    report = verify_audit_log(tmp_path / "killed.audit.jsonl")
    assert report.ok, report.problem
    assert report.decisions >= len(world.filed)  # a kill between audit and store re-decides (and re-audits)


def test_two_keeper_processes__same_contract__no_claim_decided_twice_none_lost(
    keeper_world: Any, keystore_validator: Any, chain: Any, tmp_path: Any
) -> None:
    world: KeeperWorld = keeper_world(120)  # 16 claims, one per exchange account
    seed_claims(world, 16)
    (alias_a, account_a), (alias_b, account_b) = keystore_validator(), keystore_validator()
    start_block = int(chain.blocks.head.number)
    env_a = world.keeper_env(alias_a, "a", verify_batch_size=2, payout_batch_size=2)
    env_b = world.keeper_env(alias_b, "b", verify_batch_size=2, payout_batch_size=2)

    with (
        KeeperProcess(env_a, alias_a, tmp_path / "a.log") as a,
        KeeperProcess(env_b, alias_b, tmp_path / "b.log") as b,
    ):
        wait_until(lambda: decided(world), 90, "every claim decided")
        world.advance(CHALLENGE_PERIOD)
        wait_until(world.settled, 90, "every approval paid")
        assert (a.terminate(), b.terminate()) == (EXIT_OK, EXIT_OK)

    assert_exactly_once(world)
    verdicts_by = Counter(
        str(log.validator)
        for log in world.guard.ClaimVerified.range(start_block, int(chain.blocks.head.number) + 1)
    )
    assert sum(verdicts_by.values()) == len(world.filed)
    assert set(verdicts_by) <= {str(account_a.address), str(account_b.address)}
    for account in (account_a, account_b):
        assert failed_transactions_from(chain, account.address, start_block) == []


def test_keeper_process__sigterm_lock_metrics_and_health(
    keeper_world: Any, keystore_validator: Any, tmp_path: Any
) -> None:
    world: KeeperWorld = keeper_world(60)
    seed_claims(world, 6)
    alias, _ = keystore_validator()
    env = world.keeper_env(alias, "main")
    approved = sum(1 for f in world.filed if f.expected.reason_code == 0)

    with KeeperProcess(env, alias, tmp_path / "main.log") as keeper:
        started = keeper.wait_for_log(lambda r: str(r.get("msg", "")).startswith("metrics on"), 60)
        port = int(started["msg"].split(":")[2].split("/")[0])
        wait_until(lambda: decided(world), 60, "every claim decided")
        wait_until(
            lambda: metric(scrape(port, "/metrics")[1], "keeper_passes_total") >= 2, 30, "a later pass"
        )

        status, body = scrape(port, "/healthz")
        assert (status, json.loads(body)["ok"]) == (200, True)
        text = scrape(port, "/metrics")[1]
        assert metric(text, "keeper_claims_seen_total") == len(world.filed)
        assert metric(text, 'keeper_claims_decided_total{outcome="approved"}') == approved
        assert metric(text, "keeper_pool_reserved") == int(world.guard.reservedAmount())

        second = KeeperProcess(env, alias, tmp_path / "second.log").start()
        assert second.wait(timeout=60) == EXIT_LOCKED
        assert "not starting: another keeper (pid" in (tmp_path / "second.log").read_text()

        assert keeper.terminate() == EXIT_OK
    messages = [r["msg"] for r in keeper.log_records()]
    assert "keeper stopped cleanly" in messages
    assert any(m.startswith("received SIGTERM") for m in messages)


def test_keeper_process__no_new_block__watchdog_exits_for_a_restart(
    keeper_world: Any, keystore_validator: Any, tmp_path: Any
) -> None:
    world: KeeperWorld = keeper_world(10)
    alias, _ = keystore_validator()
    env = world.keeper_env(alias, "stalled", watchdog_seconds=3)

    with KeeperProcess(env, alias, tmp_path / "stalled.log") as keeper:
        assert keeper.wait(timeout=60) == EXIT_HEAD_STALLED
    assert any(
        r["level"] == "CRITICAL" and r["msg"].startswith("chain head has not moved")
        for r in keeper.log_records()
    )


def test_keeper_process__rpc_node_down__passes_fail_loudly_then_resume(
    keeper_world: Any, keystore_validator: Any, tmp_path: Any, chain: Any
) -> None:
    world: KeeperWorld = keeper_world(60)
    picked = verdict_claims(world, 6)
    world.whitelist(picked)
    for expected in picked[:3]:
        world.file(expected)
    alias, _ = keystore_validator()
    proxy = SwitchableProxy(str(chain.provider.uri))
    env = world.keeper_env(alias, "rpc") | {"APE_FOUNDRY_HOST": proxy.url}

    try:
        with KeeperProcess(env, alias, tmp_path / "rpc.log") as keeper:
            wait_until(lambda: decided(world), 60, "the first claims decided")
            proxy.cut()
            for expected in picked[3:]:
                world.file(expected)  # the test reaches the node directly; the keeper cannot
            keeper.wait_for_log(lambda r: r.get("msg", "").startswith("pass failed"), 60)
            assert [world.status(f) for f in world.filed[3:]] == [ClaimStatus.PENDING] * 3

            proxy.restore()
            wait_until(lambda: decided(world), 60, "the claims filed during the outage decided")
            assert keeper.terminate() == EXIT_OK
    finally:
        proxy.close()
    world.assert_verdicts_match_generator(paid=False)


def test_keeper_process__once__one_pass_json_summary_and_exit_zero(
    keeper_world: Any, keystore_validator: Any, tmp_path: Any
) -> None:
    world: KeeperWorld = keeper_world(60)
    seed_claims(world, 4)
    alias, _ = keystore_validator()
    env = world.keeper_env(alias, "once")

    keeper = KeeperProcess(env, alias, tmp_path / "once.log", once=True).start()

    assert keeper.wait(timeout=60) == EXIT_OK
    summary = next(r for r in keeper.log_records() if "decided" in r and "msg" not in r)
    ids = sorted(f.claim_id for f in world.filed)
    assert (sorted(summary["recorded"]), sorted(summary["decided"]), sorted(summary["posted"])) == (
        ids,
        ids,
        ids,
    )
    world.assert_verdicts_match_generator(paid=False)


def test_keeper_process__claim_window_longer_than_grace_period__refuses_to_start_with_config_exit(
    keeper_world: Any, keystore_validator: Any, tmp_path: Any
) -> None:
    world: KeeperWorld = keeper_world(20)
    alias, _ = keystore_validator()
    window = DEFAULT_CLAIM_GRACE_PERIOD + 1
    env = world.keeper_env(alias, "window", claim_window_seconds=window)

    keeper = KeeperProcess(env, alias, tmp_path / "window.log", once=True).start()

    assert keeper.wait(timeout=60) == EXIT_CONFIG
    message = (
        f"configuration error: LG_CLAIM_WINDOW_SECONDS={window} is longer than the contract's "
        f"claimGracePeriod()={DEFAULT_CLAIM_GRACE_PERIOD}: lower the claim window to at most the grace period"
    )
    assert message in [r.get("msg") for r in keeper.log_records()]
    assert SqliteStore(tmp_path / "window.sqlite3").cursor() is None  # no pass ran
