"""An on-chain world for the keeper's end-to-end tests: generated scenarios anchored to the chain's clock,
the simulated exchange serving them, one whitelisted trader per picked claim, and keepers (in-process
pipelines or real `python -m keeper run` processes) wired to it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keeper_factories import make_settings

from keeper.audit_log import AuditLog
from keeper.chain import ChainClient, OnChainStatus
from keeper.exchanges.registry import AdapterRegistry
from keeper.exchanges.service import Verifier
from keeper.pipeline import Pipeline, PipelineConfig
from keeper.policy import PolicyParams
from keeper.sim.onchain import ClaimSeeder, FiledClaim
from keeper.sim.scenarios import ExpectedVerdict, ScenarioFile
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
DAY = 86_400
CHALLENGE_PERIOD = 3_600
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

    def status(self, filed: FiledClaim) -> OnChainStatus:
        return OnChainStatus(int(self.guard.getClaim(filed.claim_id).status))

    def settled(self) -> bool:
        """Every filed claim decided, and every approved one paid."""
        final = {OnChainStatus.REJECTED, OnChainStatus.PAID}
        return all(self.status(f) in final for f in self.filed)

    def assert_verdicts_match_generator(self, paid: bool = True) -> None:
        for f in self.filed:
            view = self.guard.getClaim(f.claim_id)
            approved = f.expected.reason_code == 0
            want = (
                OnChainStatus.REJECTED
                if not approved
                else OnChainStatus.PAID
                if paid
                else OnChainStatus.APPROVED
            )
            got = (OnChainStatus(int(view.status)), int(view.payout), int(view.reasonCode))
            assert got == (want, f.expected.payout, f.expected.reason_code), f.expected.scenario

    def keeper_env(self, alias: str, name: str, **settings: Any) -> dict[str, str]:
        """Environment of a `python -m keeper run` process on this world (fast polls, test keystore)."""
        values: dict[str, Any] = {
            "LG_CONTRACT_ADDRESS": str(self.guard.address),
            "LG_DATABASE_PATH": self.tmp_path / f"{name}.sqlite3",
            "LG_AUDIT_LOG_PATH": self.tmp_path / f"{name}.audit.jsonl",
            "LG_OKX_BASE_URL": self.sim.url,
            "LG_BINANCE_BASE_URL": self.sim.url,
            "LG_ACCOUNTS_FILE": self.accounts_file,
            "LG_MALFORMED_DUMP_DIR": self.tmp_path / "malformed",
            "LG_CONFIRMATIONS": 0,
            "LG_POLL_INTERVAL_SECONDS": 0.2,
            "LG_METRICS_PORT": 0,
            "LG_LOG_FORMAT": "json",
            "LG_HTTP_RETRIES": 1,
            "LG_HTTP_BACKOFF_FACTOR": 0.01,
            "LG_DEFER_BASE_SECONDS": 60,
            **{f"LG_{key.upper()}": value for key, value in self.scenarios.policy.items()},
            **{f"LG_{key.upper()}": value for key, value in settings.items()},
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("LG_")}
        env.update({key: str(value) for key, value in values.items()})
        env["APE_FOUNDRY_HOST"] = str(self.chain.provider.uri)
        env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = PASSPHRASE
        return env


class KeeperProcess:
    """`python -m keeper run` as a child process, its output in a file."""

    def __init__(self, env: dict[str, str], alias: str, log_path: Path, once: bool = False) -> None:
        self.env = env
        self.alias = alias
        self.log_path = log_path
        self.once = once
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> KeeperProcess:
        args = [
            sys.executable,
            "-m",
            "keeper",
            "run",
            "--network",
            "ethereum:local:foundry",
            "--account",
            self.alias,
        ]
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [*args, "--once"] if self.once else args, cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines (ape's own plain-text lines are skipped)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line cut by SIGKILL
        return records

    def wait_for_log(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.log_records():
                if predicate(record):
                    return record
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"keeper exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}"
                )
            time.sleep(0.1)
        raise AssertionError(f"no matching log line in {timeout}s: {self.log_path.read_text()[-3000:]}")

    def __enter__(self) -> KeeperProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
