"""Simulate a governance call as if its proposal were executed now, without a transaction.

One `eth_call` of `multicall([call, view, view, …])` with `from` = the guard itself: inside, `msg.sender` is
the guard (multicall delegate-calls itself), exactly as when `execute` runs the proposal, and the views read
the state the call leaves behind. It works on any node (no impersonation, no snapshot), and the node throws
the whole thing away. A call that would revert reverts the eth_call with the contract's own error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from web3.exceptions import ContractLogicError

from operator_toolkit.context import GuardContext
from operator_toolkit.decode import DecodedCall, decode_revert, format_decoded
from operator_toolkit.labels import CLAIM_STATUSES
from operator_toolkit.units import format_duration, format_flags, format_timestamp

# The pool's argument-free views of amounts and durations (also what `keeper console` shows of the pool).
AMOUNT_VIEWS = (
    "totalAssets",
    "reservedAmount",
    "freeBalance",
    "withdrawnToday",
    "paidOutToday",
    "approvedToday",
    "dailyWithdrawalLimit",
    "dailyPayoutLimit",
    "dailyApprovalLimit",
    "maxPayoutPerClaim",
    "maxCoverageLimit",
)
DURATION_VIEWS = ("challengePeriod", "claimGracePeriod", "executionDelay", "proposalLifetime")
# Calls that change one claim: its status and payout are probed (getClaim's ClaimView).
_CLAIM_CALLS = frozenset({"cancelApprovedClaim", "reopenClaim", "vetoClaim"})


class SimulationRefusedError(Exception):
    """The call would revert; `reason` is the decoded custom error, one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Probe:
    label: str
    method: str
    args: tuple[Any, ...]
    show: Callable[[Any], str]


@dataclass(frozen=True)
class Simulation:
    rows: list[tuple[str, str, str]]
    """(what, before, after) for every probed value."""

    @property
    def changes(self) -> list[tuple[str, str, str]]:
        return [row for row in self.rows if row[1] != row[2]]


def _yes_no(value: Any) -> str:
    return "true" if value else "false"


def _probes(ctx: GuardContext, calls: list[DecodedCall]) -> list[Probe]:
    probes = [Probe(name, name, (), ctx.fmt) for name in AMOUNT_VIEWS]
    probes += [Probe(name, name, (), lambda v: format_duration(int(v))) for name in DURATION_VIEWS]
    probes += [
        Probe("pausedFlags", "pausedFlags", (), lambda v: format_flags(int(v), ctx.flags)),
        Probe("threshold", "threshold", (), str),
        Probe("signers", "getSigners", (), lambda v: ", ".join(sorted(str(a) for a in v))),
        Probe("version", "version", (), str),
    ]
    for call in calls:
        if call.name in {"grantRole", "revokeRole"}:
            role, account = call.args["role"], to_checksum_address(call.args["account"])
            name = next((n for n, r in ctx.roles.items() if r == role), "0x" + role.hex())
            probes.append(Probe(f"{name} role of {account}", "hasRole", (role, account), _yes_no))
        elif call.name in {"addSigner", "removeSigner"}:
            signer = to_checksum_address(call.args["signer"])
            probes.append(Probe(f"isSigner {signer}", "isSigner", (signer,), _yes_no))
        elif call.name in _CLAIM_CALLS:
            claim_id = int(call.args["claimId"])
            probes.append(Probe(f"claim #{claim_id}", "getClaim", (claim_id,), lambda v: _claim(ctx, v)))
        elif call.name in {"extendCoverage", "removeFromWhitelist"}:
            for user in call.args["users"]:
                user = to_checksum_address(user)
                probes.append(Probe(f"policy of {user}", "getPolicy", (user,), lambda v: _policy(ctx, v)))
    return probes


def _claim(ctx: GuardContext, view: Any) -> str:
    """A ClaimView tuple (user, exchange, status, claimedLoss, payout, …) as `Approved, payout 800 USDT`."""
    return f"{CLAIM_STATUSES[int(view[2])]}, payout {ctx.fmt(int(view[4]))}"


def _policy(ctx: GuardContext, view: Any) -> str:
    """A PolicyView tuple (accountRef, coverageLimit, coverageStart, coverageEnd, used, …)."""
    limit, used, end = ctx.fmt(int(view[1])), ctx.fmt(int(view[4])), format_timestamp(int(view[3]))
    return f"limit {limit}, used {used}, ends {end}"


def _flatten(call: DecodedCall) -> list[DecodedCall]:
    return [c for inner in call.inner for c in _flatten(inner)] if call.name == "multicall" else [call]


def _read(ctx: GuardContext, probes: list[Probe], results: list[bytes]) -> list[str]:
    views = {abi.name: abi for abi in ctx.guard.contract_type.view_methods}
    shown = []
    for probe, raw in zip(probes, results, strict=True):
        types = [item.canonical_type for item in views[probe.method].outputs]
        shown.append(probe.show(abi_decode(types, bytes(raw))[0]))
    return shown


def dry_run(
    ctx: GuardContext, sender: str, calldata: bytes, block: Literal["latest", "pending"] = "pending"
) -> bytes:
    """eth_call of `calldata` to the guard from `sender` (on the pending block by default: the one a
    transaction sent now lands in, with its timestamp): what the transaction would do,
    without sending it. Through web3, which hands back the exact revert data (ape's error text renders it
    inconsistently, and prints a call trace); raises SimulationRefusedError with the decoded custom error."""
    guard = ctx.guard
    try:
        raw = guard.provider.web3.eth.call({"from": sender, "to": guard.address, "data": calldata}, block)
    except ContractLogicError as error:
        data = error.data if isinstance(error.data, str) else ""
        decoded = decode_revert(ctx, bytes.fromhex(data.removeprefix("0x"))) if data else None
        reason = format_decoded(ctx, decoded) if decoded else (error.message or "reverted without a reason")
        raise SimulationRefusedError(reason) from None
    return bytes(raw)


def _call_as_guard(ctx: GuardContext, calldata: bytes) -> list[bytes]:
    """eth_call from the guard to itself; returns multicall's bytes[]."""
    raw = dry_run(ctx, ctx.guard.address, calldata, "latest")
    return [bytes(item) for item in abi_decode(["bytes[]"], raw)[0]]


def simulate(ctx: GuardContext, data: bytes, call: DecodedCall) -> Simulation:
    """Runs `data` as governance in an eth_call; raises SimulationRefusedError with the decoded error."""
    guard = ctx.guard
    calls = _flatten(call)
    probes = _probes(ctx, calls)
    encoded = [bytes(getattr(guard, p.method).encode_input(*p.args)) for p in probes]
    before = _read(ctx, probes, list(guard.multicall.call(encoded)))
    results = _call_as_guard(ctx, bytes(guard.multicall.encode_input([data, *encoded])))
    after = _read(ctx, probes, results[1:])
    rows = [(p.label, b, a) for p, b, a in zip(probes, before, after, strict=True)]
    for item in calls:
        if item.name == "withdraw":
            # The recipient is outside the guard, so its balance is derived: it gets what leaves the pool.
            to = to_checksum_address(item.args["to"])
            held = int(ctx.token.balanceOf(to))
            rows.append(
                (f"{ctx.symbol} balance of {to}", ctx.fmt(held), ctx.fmt(held + int(item.args["amount"])))
            )
    return Simulation(rows)
