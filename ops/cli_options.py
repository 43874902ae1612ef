"""Click options and parameter types shared by the operator scripts (`ape run propose`, `proposals`, …)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from eth_utils.address import is_address, to_checksum_address

from ops.context import GuardContext, load_context, resolve_guard_address
from ops.deployment import DEPLOYMENTS_DIR

F = TypeVar("F", bound=Callable[..., Any])


class AddressParam(click.ParamType):
    """A 0x address (any case); refused with the offending value otherwise."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not is_address(text):
            self.fail(f"{value!r} is not an address (0x followed by 40 hex digits)", param, ctx)
        return str(to_checksum_address(text))


ADDRESS = AddressParam()


def guard_options(function: F) -> F:
    """`--guard ADDRESS` or, by default, the proxy recorded in `<deployments-dir>/<network>.json`."""
    function = click.option(
        "--deployments-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEPLOYMENTS_DIR,
        show_default=True,
        help="Where `ape run deploy` wrote the deployment record.",
    )(function)
    return click.option(
        "--guard",
        "guard_address",
        type=ADDRESS,
        default=None,
        help="The LeverageGuard proxy (default: record).",
    )(function)


def open_guard(project: Any, network: Any, guard_address: str | None, deployments_dir: Path) -> GuardContext:
    return load_context(project, resolve_guard_address(network.name, guard_address, deployments_dir))
