"""The scale-out figure (issue 16): 1 keeper against 3 on the Binance workload, one PostgreSQL and one chain.

    .venv/bin/python -m bench.scale_out [--keepers 1,3] [--claims 1000] [--accounts 4]  # make bench-scale-out

Each keeper count is a run in a child process of its own (``bench.common.run_child``) with a fresh lean anvil,
a fresh database on a throw-away PostgreSQL cluster (``tools/pg_cluster.py``), and the simulated exchanges in
a process of their own (``bench/sim_process.py``). The keepers are real ``python -m keeper run`` processes
(``operator_toolkit/keeper_process.py``), each with its own validator key, audit log and ``LG_KEEPER_ID``,
sharing the claims through the store's leases (docs/keeper-daemon.md, "Several keepers on one PostgreSQL"),
with the shipped settings (32 verify workers, batches of 50, leases of 500 claims for 120 s) except the poll
interval (0.2 s: the in-process bench runs its passes back to back; 12 s is a mainnet block, and anvil has no
blocks to wait for).

**One simulated IP per keeper.** Binance counts 2,400 request weight per minute per source IP. On one host
every keeper connects from 127.0.0.1, so the simulator would pool all of them into one budget. The simulator
process instead listens on one extra port per keeper (``SimExchange.add_client_ip``), and every request on
that port counts as coming from that keeper's address (198.51.100.k, a documentation range), for every per-IP
rule it enforces: the weight, the 429 back-off and 418 bans. Each keeper's base URLs point at its own port.
The keeper sends nothing that says who it is, as against a real exchange, and the exchange's data is one.

Measured: the backlog of N claims is filed while the keepers run; throughput is N / the wall time from the
first block of claims mined to the last ``ClaimVerified`` seen on chain. Binance's budget is a minute's, so
a backlog's first minute is a burst: both runs get one, which favours the shorter run. The ceiling (the
published budget per keeper IP, for the weight this run spent per claim) is printed beside each run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.common import ROOT, markdown_table, on_fresh_chain, run_child, write_json
from bench.keeper import BINANCE_WINDOW_SECONDS, LATENCY_MS, SEED
from bench.pool import RpcFiler, deploy_pool, file_backlog, prepare_claims
from bench.sim_process import RemoteSim
from bench.workload import generate_workload
from operator_toolkit.keeper_process import KeeperProcess, keeper_environment

RESULT_FILE = "scale-out.json"
PG_CLUSTER = ROOT / "tools" / "pg_cluster.py"
PASSPHRASE = "scale-out bench keystore"  # local throw-away keys on anvil, never funded elsewhere
POLL_INTERVAL_SECONDS = 0.2
LOG_POLL_SECONDS = 0.2
BLOCK_SECONDS = 1.0
"""The bench mines an empty block this often: a live chain's clock moves on its own, anvil's only with blocks
(a deferred claim's back-off runs on the chain's clock)."""


def simulated_ip(index: int) -> str:
    return f"198.51.100.{index + 1}"


@dataclass
class ScalePlan:
    keepers: int
    claims: int
    accounts: int
    database_url: str
    seed: int = SEED


# ------------------------------------------------------------------------------------------- the store


def start_cluster() -> tuple[str, bool]:
    """``tools/pg_cluster.py start``: the server's URL, and whether this call started it (one already
    running is someone else's, and stays)."""
    done = subprocess.run(
        [sys.executable, str(PG_CLUSTER), "start", "--json"], capture_output=True, text=True, check=True
    )
    info = json.loads(done.stdout)
    return str(info["url"]), bool(info["started"])


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database for one run, dropped after it."""
    import psycopg
    from psycopg import sql

    name = f"lg_scale_out_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# ------------------------------------------------------------------------------------------- the keepers


def make_validator(ape: Any, pool: Any) -> tuple[str, str]:
    """A fresh validator as an encrypted ape keystore (light scrypt), funded and granted VALIDATOR_ROLE:
    (alias, address). The alias starts ``lg_test_`` so that ``make test`` clears it away with the tests' own
    (deleting it here could break a test session listing the same folder)."""
    from ape import config

    from operator_toolkit.local_account import LIGHT_SCRYPT_N, write_keystore
    from operator_toolkit.multisig import Governance

    account = ape.accounts.test_accounts.generate_test_account()
    alias = f"lg_test_scale_{uuid.uuid4().hex[:10]}"
    write_keystore(Path(config.DATA_FOLDER), alias, account.private_key, PASSPHRASE, LIGHT_SCRYPT_N)
    pool.signers[0].transfer(account, 10**18)
    guard = pool.guard
    Governance(guard, pool.signers)(guard.grantRole, guard.VALIDATOR_ROLE(), account)
    return alias, str(account.address)


def keeper_settings(
    name: str, url: str, database_url: str, guard: Any, tmp: Path, accounts_file: Path, policy: dict[str, Any]
) -> dict[str, object]:
    """The keeper's shipped settings, but for what the bench's chain and simulator need."""
    return {
        "CONTRACT_ADDRESS": guard.address,
        "DATABASE_URL": database_url,
        "KEEPER_ID": name,
        "DATABASE_PATH": tmp / f"{name}.sqlite3",  # only its instance lock, next to it, is used
        "AUDIT_LOG_PATH": tmp / f"{name}.audit.jsonl",
        "MALFORMED_DUMP_DIR": tmp / f"{name}-malformed",
        "OKX_BASE_URL": url,
        "BINANCE_BASE_URL": url,
        "BYBIT_BASE_URL": url,
        "ACCOUNTS_FILE": accounts_file,
        "CONFIRMATIONS": 0,
        "POLL_INTERVAL_SECONDS": POLL_INTERVAL_SECONDS,
        "METRICS_PORT": 0,
        "LOG_FORMAT": "json",
        **policy,
    }


# ----------------------------------------------------------------------------------------------- a run


class VerdictWatch:
    """Reads ``ClaimVerified`` logs as they are mined (raw ``eth_getLogs``, off ape's provider): when each
    claim's verdict was first seen, and by which validator."""

    def __init__(self, filer: RpcFiler, guard: Any) -> None:
        from eth_utils.crypto import keccak

        self.filer = filer
        self.address = str(guard.address)
        self.topic = "0x" + keccak(text=guard.ClaimVerified.abi.selector).hex()
        self.next_block = int(filer.call("eth_blockNumber", []), 16)
        self.seen_at: dict[int, float] = {}
        self.validator_of: dict[int, str] = {}
        self.verdicts: Counter[int] = Counter()

    def poll(self) -> None:
        head = int(self.filer.call("eth_blockNumber", []), 16)
        if head < self.next_block:
            return
        logs = self.filer.call(
            "eth_getLogs",
            [
                {
                    "address": self.address,
                    "topics": [self.topic],
                    "fromBlock": hex(self.next_block),
                    "toBlock": hex(head),
                }
            ],
        )
        now = time.perf_counter()
        for entry in logs:
            claim_id = int(entry["topics"][1], 16)
            self.verdicts[claim_id] += 1
            self.seen_at.setdefault(claim_id, now)
            self.validator_of.setdefault(claim_id, "0x" + entry["topics"][2][-40:])
        self.next_block = head + 1


def block_ticker(filer: RpcFiler, stop: threading.Event) -> threading.Thread:
    def tick() -> None:
        while not stop.wait(BLOCK_SECONDS):
            filer.call("evm_mine", [])

    thread = threading.Thread(target=tick, name="block-ticker", daemon=True)
    thread.start()
    return thread


def _run(ape: Any, plan: ScalePlan, tmp: Path) -> dict[str, Any]:
    chain = ape.chain
    pool = deploy_pool(ape)
    start_time = int(chain.pending_timestamp)
    scenarios = generate_workload(plan.claims, plan.seed, start_time + 60, 0, plan.accounts, 1.0)
    filer, calls = prepare_claims(ape, pool, scenarios, start_time)
    accounts_file = tmp / "accounts.json"
    scenarios.write_keeper_accounts(accounts_file)
    ips = tuple(simulated_ip(i) for i in range(plan.keepers))
    sim = RemoteSim.start(scenarios, tmp, LATENCY_MS, ips)
    keepers: dict[str, KeeperProcess] = {}
    address_of: dict[str, str] = {}
    stop = threading.Event()
    try:
        for i, ip in enumerate(ips):
            settings = keeper_settings(
                f"k{i}",
                sim.client_urls[ip],
                plan.database_url,
                pool.guard,
                tmp,
                accounts_file,
                scenarios.policy,
            )
            keepers[f"k{i}"], address_of[f"k{i}"] = start_keeper(ape, pool, settings, tmp / f"k{i}.log")
        for keeper in keepers.values():
            keeper.wait_for_message("keeper loop started", 180)
        watch = VerdictWatch(filer, pool.guard)
        _, first_mined = file_backlog(filer, pool.guard, calls)
        block_ticker(filer, stop)
        drain(watch, keepers, plan.claims)
        hits, statuses = sim.counts()
        exits = {name: keeper.terminate() for name, keeper in keepers.items()}
    except BaseException:
        for keeper in keepers.values():  # the run's folder goes with it: the parent shows this stderr
            tail = keeper.log_path.read_text(errors="replace").splitlines()[-8:]
            print(f"--- {keeper.log_path.name}\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        stop.set()
        for keeper in keepers.values():
            if keeper.running:
                keeper.kill()
        sim.stop()
    seconds = max(watch.seen_at.values()) - first_mined
    decided_by = Counter(watch.validator_of.values())
    double_verdicts = sum(1 for n in watch.verdicts.values() if n > 1)
    return result(plan, ips, address_of, decided_by, double_verdicts, hits, statuses, seconds) | {
        "exit_codes": exits
    }


def start_keeper(
    ape: Any, pool: Any, settings: dict[str, object], log_path: Path
) -> tuple[KeeperProcess, str]:
    """``python -m keeper run`` with a validator of its own: the process and the validator's address."""
    alias, address = make_validator(ape, pool)
    env = keeper_environment(settings, str(ape.chain.provider.uri), alias, PASSPHRASE)
    return KeeperProcess(env, alias, log_path).start(), address


def drain(watch: VerdictWatch, keepers: dict[str, KeeperProcess], claims: int) -> None:
    """Until every claim's verdict is on chain; a keeper that exits meanwhile fails the run."""
    deadline = time.perf_counter() + 3600
    while len(watch.seen_at) < claims:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(watch.seen_at)} of {claims} verdicts within an hour")
        for name, keeper in keepers.items():
            if not keeper.running:
                raise RuntimeError(f"keeper {name} exited; see {keeper.log_path}")
        time.sleep(LOG_POLL_SECONDS)
        watch.poll()


def result(
    plan: ScalePlan,
    ips: tuple[str, ...],
    address_of: dict[str, str],
    decided_by: Counter[str],
    double_verdicts: int,
    hits: Counter[tuple[str, str]],
    statuses: Counter[int],
    seconds: float,
) -> dict[str, Any]:
    """A run's figures: ``address_of`` keeper name -> validator address, ``decided_by`` lower-case validator
    address -> verdicts on chain, ``hits`` the simulator's counts per (limit, scope)."""
    weight_of = {
        ip: sum(n for (key, scope), n in hits.items() if key == "binance weight" and scope == ip)
        for ip in ips
    }
    per_keeper = {}
    for (name, address), ip in zip(address_of.items(), ips, strict=True):
        claims = decided_by[address.lower()]
        per_keeper[name] = {
            "simulated_ip": ip,
            "claims": claims,
            "binance_weight": weight_of[ip],
            "binance_weight_per_claim": weight_of[ip] / claims if claims else None,
        }
    weight = sum(weight_of.values())
    weight_per_claim = weight / plan.claims
    from keeper.sim.server import SimLimits

    # Each keeper has its own simulated IP and so the whole per-IP budget the simulator enforces.
    budget = SimLimits().binance_weight_per_minute
    ceiling = plan.keepers * budget / BINANCE_WINDOW_SECONDS / weight_per_claim
    throughput = plan.claims / seconds
    return {
        "plan": {key: value for key, value in asdict(plan).items() if key != "database_url"},
        "seconds": seconds,
        "claims_per_second": throughput,
        "binance_weight_per_claim": weight_per_claim,
        # Weight counted on no keeper's simulated IP (the shared 127.0.0.1): 0 unless a request went astray.
        "binance_weight_elsewhere": sum(
            n for (key, scope), n in hits.items() if key == "binance weight" and scope not in ips
        ),
        "ceiling_claims_per_second": ceiling,
        "ceiling_share": throughput / ceiling,
        "keepers": per_keeper,
        "claims_with_two_verdicts": double_verdicts,
        "statuses": {str(status): n for status, n in sorted(statuses.items())},
    }


# ------------------------------------------------------------------------------------------- reporting


def table(runs: list[dict[str, Any]]) -> str:
    base = next((r for r in runs if r["plan"]["keepers"] == 1), None)
    rows = []
    for r in runs:
        per_keeper = " / ".join(
            "-" if k["binance_weight_per_claim"] is None else f"{k['binance_weight_per_claim']:.2f}"
            for k in r["keepers"].values()
        )
        ratio = r["claims_per_second"] / base["claims_per_second"] if base else None
        rows.append(
            [
                r["plan"]["keepers"],
                r["plan"]["claims"],
                f"{r['seconds']:.1f}",
                f"{r['claims_per_second']:.2f}",
                f"{r['ceiling_claims_per_second']:.2f}",
                f"{r['ceiling_share']:.2f}",
                f"{r['binance_weight_per_claim']:.2f}",
                per_keeper,
                " / ".join(str(k["claims"]) for k in r["keepers"].values()),
                r["statuses"].get("429", 0),
                "" if ratio is None else f"{ratio:.2f}x",
            ]
        )
    headers = [
        "keepers",
        "claims",
        "seconds",
        "claims/s",
        "ceiling claims/s",
        "share of ceiling",
        "Binance weight / claim",
        "weight / claim per keeper",
        "claims per keeper",
        "429 replies",
        "vs 1 keeper",
    ]
    return markdown_table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--keepers", default="1,3", help="keeper counts, one run each (default 1,3)")
    parser.add_argument("--claims", type=int, default=1_000, help="the Binance backlog (default 1,000)")
    parser.add_argument("--accounts", type=int, default=4, help="Binance accounts the claims are spread over")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=RESULT_FILE, help="a file name under bench/results/, or any path")
    args = parser.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(on_fresh_chain(_run, ScalePlan(**json.loads(args.child)), "lg-scale-")))
        return 0

    server_url, started = start_cluster()
    runs = []
    try:
        for keepers in (int(k) for k in args.keepers.split(",")):
            print(
                f"running {keepers} keeper(s): {args.claims} Binance claims ...", file=sys.stderr, flush=True
            )
            began = time.perf_counter()
            with fresh_database(server_url) as database_url:
                plan = ScalePlan(keepers, args.claims, args.accounts, database_url, args.seed)
                runs.append(run_child(Path(__file__), asdict(plan), f"{keepers} keeper(s)"))
            print(f"  done in {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)
    finally:
        if started:
            subprocess.run([sys.executable, str(PG_CLUSTER), "stop"], check=False)
    print("## Scale-out: keepers on one PostgreSQL store, each with its own simulated IP (Binance only)\n")
    print(table(runs))
    path = write_json(args.out, {"runs": runs})
    print(f"\nwrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
