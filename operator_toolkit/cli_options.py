"""Click options and parameter types shared by the operator scripts (`ape run propose`, `proposals`, …)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from ape.cli.choices import AccountAliasPromptChoice
from ape.utils.basemodel import ManagerAccessMixin
from eth_utils.address import is_address, to_checksum_address

from keeper.interface import InvalidClaimInputError, is_valid_instrument
from operator_toolkit.context import GuardContext, load_context, resolve_guard_address
from operator_toolkit.deployment import DEPLOYMENTS_DIR, deployment_path, read_deployment
from operator_toolkit.units import require_positive_amount_text

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


class AccountChoice(AccountAliasPromptChoice):
    """ape's `--account` type, whose prompt (no `--account` given) lists the test accounts as `[0..9]`:
    ape 0.8's own `print_choices` prints a literal `[0..{len_test_accounts}]` (its message lacks the f)."""

    def print_choices(self) -> None:
        listed = False
        for index, choice in enumerate(self.choices):
            if not choice.startswith("TEST::"):
                click.echo(f"{index}. {choice}")
                listed = True
        last = len(ManagerAccessMixin.account_manager.test_accounts) - 1
        if last > 0:
            click.echo(
                f"{'Or ' if listed else ''}'TEST::account_idx', where `account_idx` is in [0..{last}]\n"
            )
        elif listed:
            click.echo()


def account_option() -> Callable[[F], F]:
    """`--account ALIAS|TEST::n`, prompting for one (with a correct list) when it is not given."""

    def select(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value or not isinstance(param.type, AccountChoice):
            return value
        return param.type.select_account()

    def decorate(function: F) -> F:
        return click.option(
            "--account",
            type=AccountChoice(),
            callback=select,
            help="The signing account: a keystore alias (ape accounts list) or TEST::n locally.",
        )(function)

    return decorate


def guard_context(function: F) -> F:
    """`--guard ADDRESS` (by default the proxy recorded in `<deployments-dir>/<network>.json`) and
    `--deployments-dir`, opened once ape has connected: the command takes the result as its `ctx` argument
    (a `GuardContext`), and `deployments_dir` too only when it names that parameter."""
    wants_dir = "deployments_dir" in inspect.signature(function).parameters

    @functools.wraps(function)
    def connected(*args: Any, guard_address: str | None, deployments_dir: Path, **kwargs: Any) -> Any:
        network = ManagerAccessMixin.provider.network
        ctx = open_guard(ManagerAccessMixin.local_project, network, guard_address, deployments_dir)
        if wants_dir:
            kwargs["deployments_dir"] = deployments_dir
        return function(*args, ctx=ctx, **kwargs)

    with_dir = click.option(
        "--deployments-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEPLOYMENTS_DIR,
        show_default=True,
        help="Where `ape run deploy` wrote the deployment record.",
    )(connected)
    return click.option(
        "--guard",
        "guard_address",
        type=ADDRESS,
        default=None,
        help="The LeverageGuard proxy (default: record).",
    )(with_dir)  # type: ignore[return-value]


def claim_input(rule: Callable[[str], str]) -> Callable[[click.Context, click.Parameter, str], str]:
    """A click callback applying one of keeper.interface's submitClaim rules (`require_order_id`,
    `require_instrument`) at parse time, before any RPC: a value the contract would refuse is exit 2."""

    def check(ctx: click.Context, param: click.Parameter, value: str) -> str:
        try:
            return rule(value)
        except InvalidClaimInputError as invalid:
            message = str(invalid)
            if invalid.field == "instrument" and is_valid_instrument(value.upper()):
                message += f" (instruments are upper-case: {value.upper()!r})"
            raise click.BadParameter(message, ctx, param) from None

    return check


def positive_amount(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """A click callback: an amount above zero ('1200 USDT'), checked before any RPC."""
    try:
        return require_positive_amount_text(value)
    except click.BadParameter as bad:
        raise click.BadParameter(bad.message, ctx, param) from None


def claim_logs(ctx: GuardContext, network_name: str, deployments_dir: Path, claim_id: int) -> Any | None:
    """The `LiquidationClaimed` event of claim `claim_id` (order id, instrument, accountRef), searched from
    the deployment record's block when the record is of this guard, else from block 0; None if not found."""
    start = 0
    path = deployment_path(network_name, deployments_dir)
    if path.exists():
        record = read_deployment(path)
        if str(record.get("proxy", "")).lower() == str(ctx.guard.address).lower():
            start = int(record.get("block", 0))
    head = int(ctx.guard.chain_manager.blocks.height)
    event = ctx.guard.LiquidationClaimed
    logs = list(event.range(start, head + 1, search_topics={"claimId": claim_id}))
    return logs[0] if logs else None


def open_guard(project: Any, network: Any, guard_address: str | None, deployments_dir: Path) -> GuardContext:
    return load_context(project, resolve_guard_address(network.name, guard_address, deployments_dir))
