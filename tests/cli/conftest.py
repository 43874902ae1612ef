"""Fixtures for the operator-script tests (helpers in tests/support/cli.py, never `from conftest import`).

Named `cli`, not after the package it tests (`operator_toolkit`): a test folder of that name on pytest's
sys.path would shadow the real package.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.cli import RunCli, invoke


@pytest.fixture
def run_cli(guard: Any, accounts: Any) -> RunCli:
    """run_cli("propose", "withdraw", to, "2500 USDT", account=signers[0]) -> click Result."""

    def _run(script: str, *args: str, account: Any = None, guard_flag: bool = True) -> Any:
        argv = list(args)
        if guard_flag:
            argv += ["--guard", str(guard.address)]
        if account is not None:
            index = [a.address for a in accounts].index(account.address)
            argv += ["--account", f"TEST::{index}"]
        return invoke(script, argv)

    return _run
