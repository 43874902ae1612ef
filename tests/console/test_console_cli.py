"""``python -m keeper console``: registered among the keeper's commands; refuses to serve without a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ConsoleWorld

import operator_toolkit.context
from keeper.cli import cli
from keeper.cli.console import EXIT_NO_STORE

POOL = "0x" + "11" * 20


def test_console_command__help__names_the_fixed_host() -> None:
    result = CliRunner().invoke(cli, ["console", "--help"])

    assert result.exit_code == 0
    assert "Serve the read-only console on 127.0.0.1." in result.output


def test_console_command__no_store_yet__exits_2_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "keeper.sqlite3"

    result = CliRunner().invoke(
        cli,
        ["console", "--network", "ethereum:local:foundry", "--contract", POOL],
        env={"LG_DATABASE_PATH": str(missing), "LG_DATABASE_URL": ""},
    )

    assert result.exit_code == EXIT_NO_STORE
    assert f"no keeper store at {missing}: run the keeper first" in result.output
    assert not missing.exists()


def test_console_command__on_the_test_chain__serves_127_0_0_1_at_lg_console_port(
    console_world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch, project: Any
) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))
    guard = console_world.world.guard
    # The command's own network context would start another anvil under the test runner: it reads the pool
    # through the test chain's context instead (what it serves is not asked here, only where).
    governance = operator_toolkit.context.load_context(project, str(guard.address))
    monkeypatch.setattr(operator_toolkit.context, "load_context", lambda _project, _address: governance)

    result = CliRunner().invoke(
        cli,
        ["console", "--network", "ethereum:local:foundry", "--contract", str(guard.address)],
        env={
            "LG_DATABASE_PATH": str(console_world.store_path),
            "LG_DATABASE_URL": "",
            "LG_CONSOLE_PORT": "8799",
        },
    )

    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8799)
    assert "console on http://127.0.0.1:8799/" in result.output
