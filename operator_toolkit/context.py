"""Which LeverageGuard a command talks to, and what it needs to speak human units to it.

The address comes from `--guard`, else from the `deployments/<network>.json` that `ape run deploy` wrote
(read with `operator_toolkit.deployment.read_deployment`). Role ids and pause bits are read from the
contract's own constants, so the CLI never carries a second copy that could drift from the deployed code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from operator_toolkit.deployment import deployment_path, read_deployment
from operator_toolkit.units import format_amount, parse_amount

ERC20_SYMBOL_FALLBACK = "TOKEN"


@dataclass(frozen=True)
class GuardContext:
    guard: Any
    token: Any
    decimals: int
    symbol: str
    roles: dict[str, bytes]
    """Upper-case role name without `_ROLE` -> role id, e.g. VALIDATOR."""
    flags: dict[str, int]
    """Lower-case pause flag name without `PAUSE_` -> bit, e.g. claims; 'all' included."""

    def amount(self, text: str) -> int:
        return parse_amount(text, self.decimals, self.symbol)

    def fmt(self, amount: int) -> str:
        return format_amount(amount, self.decimals, self.symbol)


def resolve_guard_address(network_name: str, guard: str | None, deployments_dir: Path) -> str:
    if guard:
        return guard
    path = deployment_path(network_name, deployments_dir)
    if not path.exists():
        raise click.UsageError(f"no --guard given and no deployment record at {path} (run `ape run deploy`)")
    return str(read_deployment(path)["proxy"])


def load_context(project: Any, address: str) -> GuardContext:
    guard = project.ILeverageGuard.at(address)
    token = project.TestUSDT.at(guard.asset())  # any ERC-20: only decimals/symbol/balanceOf are used
    try:
        symbol = str(token.symbol())
    except Exception:  # a token without symbol() still works, its amounts are just unlabelled
        symbol = ERC20_SYMBOL_FALLBACK
    roles: dict[str, bytes] = {}
    flags: dict[str, int] = {}
    for abi in guard.contract_type.view_methods:
        if abi.inputs or len(abi.outputs) != 1:
            continue
        if abi.name.endswith("_ROLE") and abi.outputs[0].type == "bytes32":
            roles[abi.name.removesuffix("_ROLE")] = bytes(getattr(guard, abi.name)())
        elif abi.name.startswith("PAUSE_"):
            flags[abi.name.removeprefix("PAUSE_").lower()] = int(getattr(guard, abi.name)())
    return GuardContext(guard, token, int(token.decimals()), symbol, roles, flags)
