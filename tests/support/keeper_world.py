"""An on-chain world for the keeper's end-to-end tests: generated scenarios anchored to the chain's clock,
the simulated exchange serving them, one whitelisted trader per picked claim, and keepers (in-process
pipelines or real `python -m keeper run` processes) wired to it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.verifier import Verifier
from keeper.interface import ClaimStatus
from keeper.pipeline import Pipeline, PipelineConfig
from keeper.policy import PolicyParams
from keeper.sim.onchain import ClaimSeeder, FiledClaim, pick_claims
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore
from operator_toolkit.keeper_process import keeper_environment
from support.factories import make_settings
from support.pool import CHALLENGE_PERIOD, DAY

ROOT = Path(__file__).resolve().parents[2]
__all__ = ["CHALLENGE_PERIOD", "DAY", "PASSPHRASE", "KeeperWorld", "wait_until"]
PASSPHRASE = "correct horse battery staple"  # test keystores only


@dataclass
class KeeperWorld:
    chain: Any
    guard: Any
    scenarios: ScenarioFile
    sim: SimExchange
    seeder: ClaimSeeder
    accounts_file: Path
    tmp_path: Path
    traders: dict[int, Any] = field(default_factory=dict)
    filed: list[FiledClaim] = field(default_factory=list)

    def whitelist(self, picked: Iterable[ExpectedVerdict]) -> None:
        self.traders.update(self.seeder.whitelist(list(picked)))

    def file(self, expected: ExpectedVerdict) -> FiledClaim:
        filed = self.seeder.file(expected, self.traders[expected.claim["claim_id"]])
        self.filed.append(filed)
        return filed

    def advance(self, seconds: int) -> None:
        self.chain.mine(timestamp=int(self.chain.pending_timestamp) + seconds)

    def pipeline(self, validator: Any, name: str = "keeper", **config: Any) -> Pipeline:
        settings = make_settings(self.sim.url, self.accounts_file, self.tmp_path / "malformed")
        return Pipeline(
            chain=ChainClient(self.guard, validator, self.chain),
            store=SqliteStore(self.tmp_path / f"{name}.sqlite3"),
            audit=AuditLog(self.tmp_path / f"{name}.audit.jsonl"),
            verifier=Verifier(
                settings.account_registry(), AdapterRegistry(settings), settings.verify_workers
            ),
            policy=PolicyParams.model_validate(self.scenarios.policy),
            config=PipelineConfig(**{"confirmations": 0, "defer_base_seconds": 60, **config}),
        )

    def status(self, filed: FiledClaim) -> ClaimStatus:
        return ClaimStatus(int(self.guard.getClaim(filed.claim_id).status))

    def settled(self) -> bool:
        """Every filed claim decided, and every approved one paid."""
        final = {ClaimStatus.REJECTED, ClaimStatus.PAID}
        return all(self.status(f) in final for f in self.filed)

    def assert_verdicts_match_generator(self, paid: bool = True) -> None:
        for f in self.filed:
            view = self.guard.getClaim(f.claim_id)
            got = (ClaimStatus(int(view.status)), int(view.payout), int(view.reasonCode))
            if f.expected.review_cause is not None:  # waits for a person: nothing posted on chain
                assert got == (ClaimStatus.PENDING, 0, 0), f.expected.scenario
                continue
            approved = f.expected.reason_code == 0
            want = (
                ClaimStatus.REJECTED if not approved else ClaimStatus.PAID if paid else ClaimStatus.APPROVED
            )
            assert got == (want, f.expected.payout, f.expected.reason_code), f.expected.scenario

    def keeper_env(self, alias: str, name: str, **settings: Any) -> dict[str, str]:
        """Environment of a `python -m keeper run` process on this world (fast polls, test keystore)."""
        values: dict[str, Any] = {
            "CONTRACT_ADDRESS": self.guard.address,
            "DATABASE_PATH": self.tmp_path / f"{name}.sqlite3",
            "AUDIT_LOG_PATH": self.tmp_path / f"{name}.audit.jsonl",
            "OKX_BASE_URL": self.sim.url,
            "BINANCE_BASE_URL": self.sim.url,
            "BYBIT_BASE_URL": self.sim.url,
            "ACCOUNTS_FILE": self.accounts_file,
            "MALFORMED_DUMP_DIR": self.tmp_path / "malformed",
            "CONFIRMATIONS": 0,
            "POLL_INTERVAL_SECONDS": 0.2,
            "METRICS_PORT": 0,
            "LOG_FORMAT": "json",
            "HTTP_RETRIES": 1,
            "HTTP_BACKOFF_FACTOR": 0.01,
            "DEFER_BASE_SECONDS": 60,
            **self.scenarios.policy,
            **settings,
        }
        return keeper_environment(values, str(self.chain.provider.uri), alias, PASSPHRASE)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def filed_world(keeper_world: Callable[[int], KeeperWorld], count: int) -> KeeperWorld:
    """A world of 120 scenarios whose first ``count`` claims are whitelisted and filed."""
    world = keeper_world(120)
    picked = pick_claims(world.scenarios, count)
    assert len(picked) == count
    world.whitelist(picked)
    for expected in picked:
        world.file(expected)
    return world
