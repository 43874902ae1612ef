"""Console browser-test fixtures: a pool on anvil with claims the keeper decided, the console served from
a thread on a free port, and Debian's chromium driven by Playwright (its own browser download is not used).

A missing Playwright or chromium fails the test, naming ``make bootstrap``: the browser suite is never
skipped silently."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.keeper_world import KeeperWorld

from keeper.chain import ChainClient
from keeper.console.app import create_app
from keeper.console.server import ConsoleThread, free_port
from keeper.console.sources import LiveSource
from keeper.metrics import HealthLimits, HealthState, KeeperMetrics, MetricsServer
from keeper.policy import PolicyParams
from keeper.sim import generator
from keeper.sim.onchain import ClaimSeeder, FiledClaim, pick_claims
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore
from operator_toolkit.context import load_context

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".build" / "console"
DAY = 86_400
SEED = 5_2026
# An approval (left inside its challenge window: the keeper's pass posts it, nothing pays it yet) and two
# rejections beside it.
WANTED = ("okx:full_liquidation", "binance:normal_close", "okx:unknown_order")
MISSING = "{what} is missing: run `make bootstrap` (it installs Playwright and Debian's chromium)"


@dataclass
class ConsoleWorld:
    world: KeeperWorld
    approved: FiledClaim
    rejected: list[FiledClaim]
    store_path: Path


@pytest.fixture
def console_world(
    chain: Any, accounts: Any, guard: Any, registrar: Any, deployer: Any, validator: Any, tmp_path: Path
) -> Iterator[ConsoleWorld]:
    scenarios = generator.generate(120, SEED, anchor=int(chain.pending_timestamp) + DAY)
    accounts_file = tmp_path / "accounts.json"
    scenarios.write_keeper_accounts(accounts_file)
    sim = SimExchange(scenarios).start()
    try:
        seeder = ClaimSeeder(chain, guard, registrar, deployer, accounts)
        world = KeeperWorld(chain, guard, scenarios, sim, seeder, accounts_file, tmp_path)
        picked = pick_claims(scenarios, len(WANTED), first=WANTED)
        picked = [expected for expected in picked if expected.scenario in WANTED]
        assert sorted(e.scenario for e in picked) == sorted(WANTED)
        world.whitelist(picked)
        filed = [world.file(expected) for expected in picked]
        world.pipeline(validator).run_once()
        approved = [f for f in filed if f.expected.reason_code == 0]
        assert len(approved) == 1
        yield ConsoleWorld(
            world=world,
            approved=approved[0],
            rejected=[f for f in filed if f.expected.reason_code != 0],
            store_path=tmp_path / "keeper.sqlite3",
        )
    finally:
        sim.stop()


@dataclass
class KeeperServer:
    """The keeper daemon's health server (``/healthz``, ``/metrics``) fed as the daemon feeds it."""

    url: str
    metrics: KeeperMetrics
    health: HealthState


@pytest.fixture
def keeper_server(console_world: ConsoleWorld) -> Iterator[KeeperServer]:
    metrics = KeeperMetrics()
    health = HealthState(HealthLimits(head_stall_seconds=600, max_pass_seconds=600))
    health.saw_head(1)
    metrics.passes.inc()
    metrics.last_pass.set(time.time())
    health.pass_finished(ok=True)
    server = MetricsServer("127.0.0.1", 0, metrics, health).start()
    host, port = server.address
    yield KeeperServer(f"http://{host}:{port}", metrics, health)
    server.stop()


@pytest.fixture
def console_source(
    console_world: ConsoleWorld, keeper_server: KeeperServer, chain: Any, project: Any
) -> Iterator[LiveSource]:
    """What the console reads: the world's chain (no sender) and the keeper's store (only queried)."""
    store = SqliteStore(console_world.store_path, read_only=True)
    guard = console_world.world.guard
    policy = PolicyParams.model_validate(console_world.world.scenarios.policy)
    governance = load_context(project, str(guard.address))
    yield LiveSource(
        ChainClient(guard, None, chain),
        store,
        governance,
        str(chain.provider.uri),
        policy,
        keeper_url=keeper_server.url,
    )
    store.close()


@pytest.fixture
def console_url(console_source: LiveSource) -> Iterator[str]:
    """The console app in-process (uvicorn in a thread) over ``console_source``."""
    governance = console_source.governance
    app = create_app(console_source, governance.decimals, governance.symbol)
    server = ConsoleThread(app, free_port()).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(MISSING.format(what="Debian's chromium"))
    return path


@pytest.fixture
def browser_page(chromium_path: str) -> Iterator[tuple[Any, list[str]]]:
    """A chromium page and the console errors it logs (messages of type error and uncaught exceptions)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(MISSING.format(what="Playwright"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page, errors
        browser.close()


@dataclass
class Console:
    """One browser test's world: the chain and store, the console's URL, the page and its console errors."""

    world: ConsoleWorld
    source: LiveSource
    url: str
    page: Any
    errors: list[str]


@pytest.fixture
def console(
    console_world: ConsoleWorld,
    console_source: LiveSource,
    console_url: str,
    browser_page: tuple[Any, list[str]],
) -> Console:
    page, errors = browser_page
    return Console(console_world, console_source, console_url, page, errors)
