"""Running the operator scripts in-process with click's CliRunner, on the test session's anvil.

The scripts are loaded from `scripts/` by path (it is not a package; `ape run` loads them the same way). Their
ConnectedProviderCommand would build a fresh provider for the network choice (a second anvil); the choice is
resolved to the test session's connected provider instead, so each invocation sees the test's
chain state, inside ape's per-test isolation.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from ape import chain, networks
from click.testing import CliRunner, Result

from operator_toolkit.cli_output import console

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# CliRunner is no terminal, so rich would wrap tables at 80 columns and split the strings tests look for.
console.width = 200
_loaded: dict[str, Any] = {}

RunCli = Callable[..., Result]


def load_script(name: str) -> Any:
    if name not in _loaded:
        spec = importlib.util.spec_from_file_location(f"lg_script_{name}", SCRIPTS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[name] = module
    return _loaded[name]


def invoke(script: str, argv: list[str]) -> Result:
    def connected(*_args: Any, **_kwargs: Any) -> Any:
        return chain.provider

    with mock.patch.object(type(networks), "get_provider_from_choice", connected):
        return CliRunner().invoke(load_script(script).cli, argv, catch_exceptions=False)
