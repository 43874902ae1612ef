"""`ape run demo` (`make demo`): LeverageGuard's main job on a local chain, unattended.

Three signers (threshold 2) set the pool up by proposal; a sponsor funds it; the simulated exchange serves
generated trading histories (liquidations, normal closes, ADL, orders of other accounts, ...); the registrar
insures one trader per history; the traders file ~50 claims while the keeper daemon (`python -m keeper run`,
a separate process signing with an encrypted keystore) verifies them on the exchange, posts verdicts and pays
approved claims after the challenge window. Claims whose exchange account the keeper holds no credentials for
wait in manual review (still Pending on chain); a person decides them with `python -m keeper review decide`
and the daemon posts those verdicts. The last configuration proposal sets a 48 h execution delay. A summary
table and the audit-log check follow; then anyone re-derives one approved and one rejected verdict from the
exchange's raw answers (`python -m keeper evidence export` / `evidence check --rpc`); then a withdrawal
proposal waits out its delay (execute before `readyAt` is refused with ProposalNotReady, the chain's clock
moves on, it executes) and an over-limit withdrawal is refused by the contract. Last, a proposal is left in
its delay and the read-only console (``python -m keeper console``) serves this chain and the keeper's store
until Enter is pressed (``--no-console``: not served).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from ape import accounts, chain, config, project
from ape.cli import ConnectedProviderCommand
from ape.exceptions import ContractLogicError
from ape.logging import logger
from eth_account import Account
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from keeper.audit_log import verify_audit_log
from keeper.chain import ChainClient
from keeper.console.app import create_app
from keeper.console.server import ConsoleThread, free_port
from keeper.console.sources import LiveSource
from keeper.interface import ClaimStatus, ReasonCode
from keeper.policy import PolicyParams
from keeper.settings import KeeperSettings
from keeper.sim.generator import BINANCE_KINDS, BYBIT_KINDS, KINDS, generate
from keeper.sim.onchain import ClaimSeeder, FiledClaim, pick_claims
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore, SqlStore
from keeper.store.url import redact_url
from operator_toolkit.context import load_context
from operator_toolkit.deployment import abi_sha256, deploy_leverage_guard, write_deployment
from operator_toolkit.keeper_process import KeeperProcess, KeeperProcessError, keeper_environment
from operator_toolkit.local_account import LIGHT_SCRYPT_N, write_keystore
from operator_toolkit.multisig import encode_multicall
from operator_toolkit.units import format_countdown, format_timestamp

USDT = 10**6
DAY = 86_400
CHALLENGE_PERIOD = 6 * 3_600
EXECUTION_DELAY = 48 * 3_600
DAILY_APPROVAL_LIMIT = 80_000 * USDT
MAX_COVERAGE_LIMIT = 100_000 * USDT
CLAIMS = 50
SCENARIOS = 200
SEED = 20_261_124
KEEPER_ALIAS = "lg_demo_keeper"
DEMO_DIR = Path("var/demo")
EVERY_KIND = [
    *(f"okx:{k}" for k in KINDS),
    *(f"binance:{k}" for k in BINANCE_KINDS),
    *(f"bybit:{k}" for k in BYBIT_KINDS),
]
WAIT_SECONDS = 240

console = Console(highlight=False, soft_wrap=True)


def usdt(amount: int) -> str:
    return f"{Decimal(amount) / USDT:,.2f} USDT"


def step(number: int | str, text: str) -> None:
    console.print(f"\n[bold cyan]{number}.[/] {text}")


def say(text: str) -> None:
    console.print(f"   {text}")


def refusal(error: ContractLogicError) -> str:
    """A revert as `ErrorName(arg=value, …)`, amounts in USDT."""
    inputs = getattr(error, "inputs", {}) or {}
    args = ", ".join(
        f"{name}={usdt(value) if name in {'requested', 'remaining', 'needed', 'free'} else value}"
        for name, value in inputs.items()
    )
    return f"{type(error).__name__}({args})"


@contextlib.contextmanager
def expect_refusal() -> Iterator[list[ContractLogicError]]:
    """Runs a call that should revert, hiding the provider's call-trace dump; yields the caught errors.

    ape-foundry prints the trace of every revert to the `sys.stdout` it saw at import time, so the dump is
    silenced at the file-descriptor level."""
    caught: list[ContractLogicError] = []
    sys.stdout.flush()
    saved_fd = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield caught
        except ContractLogicError as error:
            caught.append(error)
        finally:
            sys.stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
    if not caught:
        raise click.ClickException("a call the demo expected to be refused went through")


def pool_line(guard: Any) -> str:
    return (
        f"pool {usdt(guard.totalAssets())}, reserved {usdt(guard.reservedAmount())}, "
        f"free {usdt(guard.freeBalance())}"
    )


DATABASE_URL = os.environ.get("LG_DATABASE_URL") or None
"""A PostgreSQL database for the keeper's store (``LG_DATABASE_URL``), else SQLite under ``DEMO_DIR``."""


def open_demo_store(read_only: bool = False) -> SqlStore:
    if DATABASE_URL is None:
        return SqliteStore(DEMO_DIR / "keeper.sqlite3", read_only=read_only)
    from keeper.store.postgres import PostgresStore

    return PostgresStore(DATABASE_URL, read_only=read_only)


def require_empty_store() -> None:
    """The demo starts a new chain: a store holding another chain's claims would mislead the keeper."""
    store = open_demo_store()
    try:
        cursor = store.cursor()
    finally:
        store.close()
    if cursor is not None:
        raise click.ClickException(
            f"LG_DATABASE_URL {redact_url(DATABASE_URL or '')} already holds a keeper's state (cursor at "
            f"block {cursor}); the demo runs on a new chain: point it at an empty database"
        )


def keeper_settings(
    deployment_file: Path, accounts_file: Path, sim_url: str, policy: dict[str, Any]
) -> dict[str, Any]:
    database = {} if DATABASE_URL is None else {"DATABASE_URL": DATABASE_URL}
    return {
        **database,
        "DEPLOYMENT_FILE": deployment_file,
        "DATABASE_PATH": DEMO_DIR / "keeper.sqlite3",
        "AUDIT_LOG_PATH": DEMO_DIR / "audit.jsonl",
        "ACCOUNTS_FILE": accounts_file,
        "OKX_BASE_URL": sim_url,
        "BINANCE_BASE_URL": sim_url,
        "BYBIT_BASE_URL": sim_url,
        "MALFORMED_DUMP_DIR": DEMO_DIR / "malformed",
        "CONFIRMATIONS": 0,  # a local anvil chain never reorganises; mainnet keepers keep the default
        "POLL_INTERVAL_SECONDS": 0.5,
        "METRICS_PORT": 0,
        "LOG_FORMAT": "json",
        **policy,
    }


def keeper_cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    """`python -m keeper ARGS` as an operator or auditor types it; (exit code, stdout)."""
    done = subprocess.run(
        [sys.executable, "-m", "keeper", *args], capture_output=True, text=True, env=env, timeout=120
    )
    return done.returncode, done.stdout


def review_desk(env: dict[str, str], reviewed: list[FiledClaim]) -> dict[int, tuple[int, int]]:
    """A person decides each claim waiting in review: approves the first, rejects the others as
    UNKNOWN_ACCOUNT; returns claim id -> (reason code, payout) as decided."""
    code, out = keeper_cli(env, "review", "list")
    if code != 0:
        raise click.ClickException(f"keeper review list exited {code}: {out}")
    for line in out.splitlines():
        say(f"[dim]{line}[/]")
    decided: dict[int, tuple[int, int]] = {}
    for index, f in enumerate(reviewed):
        choice = (
            ["--approve", str(f.expected.claim["claimed_loss"])]
            if index == 0
            else ["--reject", "UNKNOWN_ACCOUNT"]
        )
        note = "checked the order by hand" if index == 0 else "no such account at the exchange"
        code, out = keeper_cli(
            env,
            "review",
            "decide",
            str(f.claim_id),
            *choice,
            "--reviewer",
            "demo-operator",
            "--note",
            note,
            "--network",
            "ethereum:local:foundry",
        )
        if code != 0:
            raise click.ClickException(f"keeper review decide {f.claim_id} exited {code}: {out}")
        decision = json.loads(out.strip().splitlines()[-1])["decision"]
        decided[f.claim_id] = (int(decision["reason_code"]), int(decision["payout"]))
        say(
            f"claim {f.claim_id}: {' '.join(choice)} by demo-operator -> reason {decision['reason_code']}, "
            f"payout {usdt(int(decision['payout']))}; the keeper posts it on its next pass"
        )
    return decided


def check_evidence(env: dict[str, str], guard: Any, filed: FiledClaim) -> bool:
    """`evidence export` then `evidence check --rpc`: the verdict re-derived from the raw answers alone."""
    code, bundle = keeper_cli(env, "evidence", "export", str(filed.claim_id))
    if code != 0:
        raise click.ClickException(f"keeper evidence export {filed.claim_id} exited {code}: {bundle}")
    path = DEMO_DIR / f"bundle-{filed.claim_id}.json"
    path.write_text(bundle)
    code, out = keeper_cli(
        env, "evidence", "check", str(path), "--rpc", str(chain.provider.uri), "--guard", str(guard.address)
    )
    for line in out.strip().splitlines()[:-1]:
        item = json.loads(line)
        mark = "[green]ok[/]" if item["ok"] else "[red]FAILED[/]"
        say(f"  {item['step']:<9} {mark}  {item['detail'][:96]}")
    say(f"claim {filed.claim_id} ({path}): exit {code}, {'all steps agree' if code == 0 else 'DISAGREES'}")
    return code == 0


def status_of(guard: Any, filed: FiledClaim) -> ClaimStatus:
    return ClaimStatus(int(guard.getClaim(filed.claim_id).status))


def follow_keeper(
    guard: Any, filed: list[FiledClaim], progress: Progress, decided_task: Any, paid_task: Any
) -> None:
    """Waits until every claim is decided and every approved one paid, moving the chain's clock past the
    challenge window whenever approvals wait for it (on a real chain, time does this)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        statuses = [status_of(guard, f) for f in filed]
        decided = sum(s is not ClaimStatus.PENDING for s in statuses)
        waiting = sum(s is ClaimStatus.APPROVED for s in statuses)
        paid = sum(s is ClaimStatus.PAID for s in statuses)
        progress.update(decided_task, completed=decided)
        progress.update(paid_task, completed=paid, total=paid + waiting)
        if decided == len(filed) and waiting == 0:
            return
        if waiting and decided == len(filed):
            chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD)
        time.sleep(0.5)
    raise click.ClickException(f"claims still open after {WAIT_SECONDS}s; see {DEMO_DIR / 'keeper.log'}")


def summary_table(guard: Any, filed: list[FiledClaim]) -> Table:
    table = Table(title="Verdicts on chain", title_justify="left")
    table.add_column("verdict", no_wrap=True)
    table.add_column("claims", justify="right")
    table.add_column("claimed", justify="right")
    table.add_column("paid", justify="right")
    rows: dict[str, list[int]] = {}
    for f in filed:
        view = guard.getClaim(f.claim_id)
        code = int(view.reasonCode)
        name = "approved and paid" if code == 0 else f"rejected: {ReasonCode(code).name.lower()} ({code})"
        row = rows.setdefault(name, [0, 0, 0])
        row[0] += 1
        row[1] += int(view.claimedLoss)
        row[2] += int(view.payout) if ClaimStatus(int(view.status)) is ClaimStatus.PAID else 0
    for name, (count, claimed, paid) in sorted(rows.items()):
        table.add_row(name, str(count), usdt(claimed), usdt(paid))
    total = [sum(r[i] for r in rows.values()) for i in range(3)]
    table.add_row("[bold]total[/]", str(total[0]), usdt(total[1]), usdt(total[2]))
    return table


def started_keeper_metrics(keeper: KeeperProcess) -> str:
    """Waits for the keeper's loop to start; returns its /metrics address (from its log)."""
    try:
        metrics_line = keeper.wait_for_message("metrics on", 90)
        keeper.wait_for_message("keeper loop started", 30)
    except KeeperProcessError as exc:
        raise click.ClickException(str(exc)) from None
    return str(metrics_line["msg"]).split()[2].removesuffix(",")


def console_port() -> int:
    """``LG_CONSOLE_PORT`` (8780 by default) when it is free, else any free port: the demo never fails
    because another console is running."""
    wanted = int(os.environ.get("LG_CONSOLE_PORT") or KeeperSettings.model_fields["console_port"].default)
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
        except OSError:
            return free_port()
    return wanted


def serve_console(guard: Any, policy: dict[str, Any], keeper_url: str, signers: list[Any]) -> None:
    """Leaves a proposal in its delay (the Proposals page counts it down), then serves the console on this
    chain and the keeper's store until Enter is pressed (at once when stdin is not a terminal)."""
    limit = 25_000 * USDT
    proposal_id = int(
        guard.propose(
            guard, 0, guard.setDailyWithdrawalLimit.encode_input(limit), sender=signers[0]
        ).return_value
    )
    guard.confirm(proposal_id, sender=signers[1])
    ready_at = int(guard.getProposal(proposal_id).readyAt)
    say(
        f"Proposal #{proposal_id} (daily withdrawal limit {usdt(limit)}) is scheduled: ready "
        f"{format_countdown(ready_at, int(chain.pending_timestamp)).removeprefix('ready ')}"
    )
    governance = load_context(project, str(guard.address))
    store = open_demo_store(read_only=True)  # as `keeper console` opens it
    source = LiveSource(
        ChainClient(governance.guard, None, chain),
        store,
        governance,
        str(chain.provider.uri),
        PolicyParams.model_validate(policy),
        keeper_url=keeper_url,
    )
    server = ConsoleThread(create_app(source, governance.decimals, governance.symbol), console_port()).start()
    try:
        say(f"[bold]The console: {server.url}/[/] (Pool, Proposals, Claims, Keeper; read-only)")
        if sys.stdin.isatty():
            console.input("   Press Enter to stop the console and the local chain. ")
        else:
            say("stdin is not a terminal: the console stops now (make demo DEMO_ARGS=--no-console skips it)")
    finally:
        server.stop()
        store.close()


@click.command(cls=ConnectedProviderCommand, short_help="LeverageGuard's main job on a local chain")
@click.option("--no-console", is_flag=True, help="End after the story, without serving the console.")
def cli(no_console: bool) -> None:
    logger.set_level("WARNING")
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir(parents=True)
    if DATABASE_URL is not None:
        require_empty_store()
    test_accounts = accounts.test_accounts
    signers = list(test_accounts[0:3])
    guardian, registrar, sponsor = test_accounts[3:6]

    step(1, "Deploy a test stablecoin and LeverageGuard (implementation behind an ERC1967 proxy).")
    token = signers[0].deploy(project.TestUSDT)
    deployment = deploy_leverage_guard(project, signers[0], token, signers, 2)
    guard = deployment.guard
    deployment_file = DEMO_DIR / "deployment.json"
    record = deployment.record("local", str(token.address), abi_sha256(project.ILeverageGuard.contract_type))
    write_deployment(record, deployment_file, force=True)
    say(f"LeverageGuard proxy at {guard.address}; the keeper finds it in {deployment_file}")

    step(
        2,
        "The keeper's validator key: a new encrypted ape keystore; its passphrase stays in the environment.",
    )
    passphrase = secrets.token_urlsafe(24)
    keeper_key = Account.create()
    write_keystore(Path(config.DATA_FOLDER), KEEPER_ALIAS, keeper_key.key, passphrase, LIGHT_SCRYPT_N)
    signers[0].transfer(keeper_key.address, 10 * 10**18)
    say(f"ape account alias '{KEEPER_ALIAS}' = {keeper_key.address}")

    step(3, "Signer 1 proposes roles and limits in one multicall; signer 2 confirms; it executes.")
    setup = encode_multicall(
        guard,
        [
            (guard.grantRole, (guard.GUARDIAN_ROLE(), guardian)),
            (guard.grantRole, (guard.VALIDATOR_ROLE(), keeper_key.address)),
            (guard.grantRole, (guard.REGISTRAR_ROLE(), registrar)),
            (guard.setDailyWithdrawalLimit, (20_000 * USDT,)),
            # the payout limit first: the max payout per claim may never exceed it
            (guard.setDailyPayoutLimit, (50_000 * USDT,)),
            (guard.setMaxPayoutPerClaim, (5_000 * USDT,)),
            (guard.setDailyApprovalLimit, (DAILY_APPROVAL_LIMIT,)),
            (guard.setMaxCoverageLimit, (MAX_COVERAGE_LIMIT,)),
            (guard.setChallengePeriod, (CHALLENGE_PERIOD,)),
        ],
    )
    proposal_id = int(guard.propose(guard, 0, setup, sender=signers[0]).return_value)
    with expect_refusal() as refused:
        guard.execute(proposal_id, sender=signers[0])
    say(f"Proposal #{proposal_id} with one confirmation is refused: {refusal(refused[0])}")
    guard.confirm(proposal_id, sender=signers[1])
    guard.execute(proposal_id, sender=signers[0])
    say(
        f"Executed with 2 of 3: the keeper is validator; payouts {usdt(guard.dailyPayoutLimit())} a day, "
        f"max {usdt(guard.maxPayoutPerClaim())} per claim, "
        f"approvals {usdt(guard.dailyApprovalLimit())} a day, "
        f"coverage at most {usdt(guard.maxCoverageLimit())} per policy, challenge window "
        f"{CHALLENGE_PERIOD // 3600} h"
    )
    # The last configuration proposal: from now on every proposal waits out the delay after its threshold.
    delay_id = int(
        guard.propose(
            guard, 0, guard.setExecutionDelay.encode_input(EXECUTION_DELAY), sender=signers[0]
        ).return_value
    )
    guard.confirm(delay_id, sender=signers[1])
    guard.execute(delay_id, sender=signers[0])
    say(
        f"Proposal #{delay_id}, the last of the configuration, sets an execution delay of "
        f"{guard.executionDelay() // 3600} h: a proposal reaching its threshold is executable only after it, "
        "and a guardian may cancel it meanwhile"
    )

    step(4, "A sponsor deposits 100,000 test USDT.")
    token.mint(sponsor, 100_000 * USDT, sender=sponsor)
    token.approve(guard, 100_000 * USDT, sender=sponsor)
    guard.deposit(100_000 * USDT, sender=sponsor)
    pool_before = int(guard.totalAssets())
    say(pool_line(guard))

    step(5, f"The simulated exchange serves {SCENARIOS} generated trading histories (OKX, Binance, Bybit).")
    scenarios = generate(SCENARIOS, SEED, anchor=int(chain.pending_timestamp) + DAY)
    picked = pick_claims(scenarios, CLAIMS, first=EVERY_KIND)
    accounts_file = DEMO_DIR / "exchange-accounts.json"
    scenarios.write_keeper_accounts(accounts_file)
    sim = SimExchange(scenarios).start()
    kinds = Counter(e.scenario.split(":", 1)[1].replace("_", " ") for e in picked)
    say(
        f"Exchange at {sim.url}; {len(picked)} of its histories become claims: "
        + ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
    )

    keeper: KeeperProcess | None = None
    try:
        step(6, f"The registrar insures {len(picked)} traders (coverage limit and end per trader).")
        seeder = ClaimSeeder(chain, guard, registrar, signers[0], test_accounts)
        traders = seeder.whitelist(picked)
        say(f"{len(traders)} traders whitelisted; on chain only salted hashes of their exchange accounts")

        step(
            7,
            "The keeper daemon starts: python -m keeper run --network ethereum:local:foundry "
            f"--account {KEEPER_ALIAS}",
        )
        settings = keeper_settings(deployment_file, accounts_file, sim.url, scenarios.policy)
        env = keeper_environment(settings, str(chain.provider.uri), KEEPER_ALIAS, passphrase)
        keeper = KeeperProcess(env, KEEPER_ALIAS, DEMO_DIR / "keeper.log").start()
        metrics_url = started_keeper_metrics(keeper)
        say(f"metrics on {metrics_url}, health on /healthz")

        step(8, "Traders file their claims, each at its moment in the story; the keeper works in parallel.")
        filed: list[FiledClaim] = []
        with Progress(
            TextColumn("   {task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            filed_task = progress.add_task("claims filed", total=len(picked))
            decided_task = progress.add_task("verdicts posted by the keeper", total=len(picked))
            paid_task = progress.add_task("approved claims paid", total=None)
            for expected in picked:
                filed.append(seeder.file(expected, traders[expected.claim["claim_id"]]))
                progress.advance(filed_task)
            reviewed = [f for f in filed if f.expected.review_cause is not None]
            progress.update(decided_task, total=len(filed) - len(reviewed))
            follow_keeper(guard, [f for f in filed if f not in reviewed], progress, decided_task, paid_task)

        step(
            "8b",
            f"{len(reviewed)} claims name exchange accounts the keeper has no credentials for: not rejected, "
            "they wait (Pending on chain) for a person at the review desk.",
        )
        desk_env = env  # the operator's shell: the keeper's LG_* settings, the node, the project
        decided_by_person = review_desk(desk_env, reviewed)
        with Progress(
            TextColumn("   {task.description:<28}"), BarColumn(), MofNCompleteColumn(), console=console
        ) as p:
            follow_keeper(
                guard, filed, p, p.add_task("all verdicts posted", total=len(filed)), p.add_task("paid")
            )

        with urllib.request.urlopen(metrics_url.replace("/metrics", "/healthz"), timeout=5) as response:
            health = json.loads(response.read())
        say(f"/healthz: {'ok' if health['ok'] else health['problems']}")
        code = keeper.terminate()
        say(f"SIGTERM: the keeper finished its step and exited with code {code}")
    finally:
        if keeper is not None and keeper.running:
            keeper.kill()
        sim.stop()

    step(9, "Summary.")
    console.print(summary_table(guard, filed))
    matched = sum(
        (int(guard.getClaim(f.claim_id).reasonCode), int(guard.getClaim(f.claim_id).payout))
        == decided_by_person.get(f.claim_id, (f.expected.reason_code, f.expected.payout))
        for f in filed
    )
    say(
        f"{matched} of {len(filed)} verdicts equal the generator's expected verdicts "
        f"({len(decided_by_person)} of them as the reviewer decided)"
    )
    by_exchange = Counter(f.expected.claim["exchange"] for f in filed)
    decided = Counter(
        f.expected.claim["exchange"]
        for f in filed
        if ClaimStatus(int(guard.getClaim(f.claim_id).status)) is not ClaimStatus.PENDING
    )
    say(
        "decided on chain, by exchange: "
        + ", ".join(f"{name} {decided[name]} of {by_exchange[name]}" for name in sorted(by_exchange))
    )
    after, reserved = usdt(guard.totalAssets()), usdt(guard.reservedAmount())
    say(f"pool before {usdt(pool_before)}, after {after}; reserved {reserved}")
    store = open_demo_store()
    transactions = store.transactions()
    store.close()
    kinds_sent = Counter(t.kind.value for t in transactions)
    gas = sum(t.gas_used or 0 for t in transactions)
    say(
        f"keeper transactions: {kinds_sent['verify']} verdict and {kinds_sent['payout']} payout batches, "
        f"{gas:,} gas ({gas // max(1, len(filed)):,} per claim)"
    )
    audit = verify_audit_log(DEMO_DIR / "audit.jsonl")
    verdict = "intact" if audit.ok else f"BROKEN at line {audit.problem.line if audit.problem else '?'}"
    counts = f"{audit.decisions} decisions, {audit.transactions} transactions"
    say(f"audit log {DEMO_DIR / 'audit.jsonl'}: {counts}, {verdict}")
    database = DEMO_DIR / "keeper.sqlite3" if DATABASE_URL is None else redact_url(DATABASE_URL)
    say(f"keeper database {database}; keeper log {DEMO_DIR / 'keeper.log'}")
    say("check it yourself: .venv/bin/python -m keeper audit verify --log var/demo/audit.jsonl")

    step(
        "9b",
        "Anyone re-derives a verdict from the exchange's raw answers, with no credentials or exchange access:"
        " python -m keeper evidence export CLAIM > bundle.json; python -m keeper evidence check bundle.json "
        "--rpc URL --guard ADDRESS",
    )
    by_code = {f.claim_id: int(guard.getClaim(f.claim_id).reasonCode) for f in filed}
    automatic = [f for f in filed if f.claim_id not in decided_by_person]
    examples = [
        next(f for f in automatic if by_code[f.claim_id] == 0),
        next(f for f in automatic if by_code[f.claim_id] != 0),
    ]
    evidence_ok = all([check_evidence(desk_env, guard, f) for f in examples])

    step(
        10, f"A signer proposes withdrawing 15,000 USDT; it waits out the {EXECUTION_DELAY // 3600} h delay."
    )
    treasury = test_accounts[6]
    proposal_id = int(
        guard.propose(
            guard, 0, guard.withdraw.encode_input(treasury, 15_000 * USDT), sender=signers[0]
        ).return_value
    )
    receipt = guard.confirm(proposal_id, sender=signers[1])
    ready_at = int(receipt.decode_logs(guard.ProposalScheduled)[0].readyAt)
    say(
        f"Signer 2's confirmation reaches the threshold and schedules proposal #{proposal_id}: readyAt "
        f"{ready_at} = {format_timestamp(ready_at)} "
        f"({format_countdown(ready_at, int(chain.pending_timestamp))})"
    )
    with expect_refusal() as refused:
        guard.execute(proposal_id, sender=signers[0])
    say(f"Executing it now is refused: {refusal(refused[0])}")
    chain.mine(timestamp=ready_at)
    before = int(token.balanceOf(treasury))
    guard.execute(proposal_id, sender=signers[0])
    say(
        f"The chain's clock reaches {format_timestamp(ready_at)}: executed, the treasury received "
        f"{usdt(int(token.balanceOf(treasury)) - before)}; {pool_line(guard)}"
    )

    step(11, "A signer proposes withdrawing 30,000 USDT; the daily limit is 20,000 USDT.")
    proposal_id = int(
        guard.propose(
            guard, 0, guard.withdraw.encode_input(signers[0], 30_000 * USDT), sender=signers[0]
        ).return_value
    )
    guard.confirm(proposal_id, sender=signers[1])
    chain.mine(timestamp=int(guard.getProposal(proposal_id).readyAt))
    with expect_refusal() as refused:
        guard.execute(proposal_id, sender=signers[0])
    say(
        f"Proposal #{proposal_id} (2 of 2 confirmations, delay over) is refused by the contract: "
        f"{refusal(refused[0])}"
    )

    if matched != len(filed) or not audit.ok or not evidence_ok:
        raise click.ClickException(
            "the keeper's verdicts, its audit log or the evidence checks are not what they should be"
        )
    if not no_console:
        step(
            12,
            "The keeper runs again; the console reads this chain, the keeper's store and its health: what "
            "signers, guardians, traders and operators see.",
        )
        keeper = KeeperProcess(env, KEEPER_ALIAS, DEMO_DIR / "keeper-console.log").start()
        try:
            metrics_url = started_keeper_metrics(keeper)
            serve_console(guard, scenarios.policy, metrics_url.removesuffix("/metrics"), signers)
        finally:
            keeper.terminate()
    console.print("\n[bold green]Demo complete.[/] The local chain stops now.")
