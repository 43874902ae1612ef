"""Console browser-test fixtures: a pool on anvil with claims the keeper decided, the console served from
a thread on a free port, and Debian's chromium driven by Playwright (its own browser download is not used).

A missing Playwright or chromium fails the test, naming ``make bootstrap``: the browser suite is never
skipped silently."""

from __future__ import annotations

import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "keeper"))  # the keeper suite's world helpers

from keeper_world import KeeperWorld

from keeper.chain import ChainClient
from keeper.console.app import create_app
from keeper.console.sources import LiveSource
from keeper.policy import PolicyParams
from keeper.sim import generator
from keeper.sim.onchain import ClaimSeeder, FiledClaim, pick_claims
from keeper.sim.server import SimExchange
from keeper.store import SqliteStore

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def console_url(console_world: ConsoleWorld, chain: Any) -> Iterator[str]:
    """The console app in-process (uvicorn in a thread), on the world's chain and the keeper's store."""
    import uvicorn

    store = SqliteStore(console_world.store_path)
    guard = console_world.world.guard
    policy = PolicyParams.model_validate(console_world.world.scenarios.policy)
    source = LiveSource(
        ChainClient(guard, None, chain), store, str(guard.address), str(chain.provider.uri), policy
    )
    app = create_app(source, 6)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none"))
    thread = threading.Thread(target=server.run, name="console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


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
    url: str
    page: Any
    errors: list[str]


@pytest.fixture
def console(console_world: ConsoleWorld, console_url: str, browser_page: tuple[Any, list[str]]) -> Console:
    page, errors = browser_page
    return Console(console_world, console_url, page, errors)
