"""Gas per LeverageGuard operation against its floor, measured on one local anvil in one run.

    .venv/bin/python -m bench.gas [--sizes 1,10,50,200] [--whitelist-sizes 1,50,200] [--out gas.json]

Floors (deployed on the same chain, same token, same arguments):
- payouts and withdrawals: a bare ERC-20 `transfer` transaction of the pool's token (TestUSDT) to a fresh
  address (the recipient's balance goes from zero to non-zero, as a liquidated trader's does);
- deposits: a bare ERC-20 `transferFrom` transaction into an address that already holds the token;
- claims, verdicts and whitelisting: `bench/contracts/FloorWriter.sol`, which writes the same packed slots and
  emits the same events as `submitClaim`, `postVerification(s)` and `addToWhitelist`, and does nothing else.
Governance (`propose`, `confirm`, `execute`) has no floor; its gas is reported alone.

Gas is `receipt.gas_used` (the whole transaction, 21,000 base included). For a batch of n items: per item
= gas(batch) / n, marginal = (gas(n) - gas(1)) / (n - 1). Every verdict is an approval (the dearer path:
it also reserves the payout) and every claim is filed by a different trader, so no slot is warm by accident.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

from bench.common import floor_contracts, local_chain, markdown_table, write_json

USDT = 10**6
LOSS = 1_000 * USDT
PAYOUT = 800 * USDT
COVERAGE = 10_000 * USDT
ORDER_ID = "2851732018456913920"  # 19 digits, the shape of an OKX ordId
INSTRUMENT = "BTC-USDT-SWAP"
EVIDENCE = bytes.fromhex("e1" * 32)
DEFAULT_SIZES = (1, 10, 50, 200)
DEFAULT_WHITELIST_SIZES = (1, 50, 200)


@dataclass
class Row:
    operation: str
    n: int
    gas: int  # the whole transaction
    floor_name: str | None = None
    floor_gas: int | None = None  # the floor transaction (for batch floors: the batch of the same n)
    floor_n: int = 1

    @property
    def per_item(self) -> float:
        return self.gas / self.n

    @property
    def floor_per_item(self) -> float | None:
        return None if self.floor_gas is None else self.floor_gas / self.floor_n

    @property
    def ratio(self) -> float | None:
        floor = self.floor_per_item
        return None if floor is None else self.per_item / floor


@dataclass
class GasReport:
    rows: list[Row] = field(default_factory=list)
    marginal: dict[str, dict[int, float]] = field(default_factory=dict)
    max_batch_size: int = 0
    skipped_sizes: list[int] = field(default_factory=list)
    floors: dict[str, int] = field(default_factory=dict)

    def row(self, operation: str, n: int) -> Row:
        return next(r for r in self.rows if r.operation == operation and r.n == n)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": [
                {**asdict(r), "per_item": r.per_item, "floor_per_item": r.floor_per_item, "ratio": r.ratio}
                for r in self.rows
            ],
            "marginal_per_item": {
                op: {str(n): v for n, v in by_n.items()} for op, by_n in self.marginal.items()
            },
            "max_batch_size": self.max_batch_size,
            "skipped_sizes": self.skipped_sizes,
            "floors": self.floors,
        }


def _gas(receipt: Any) -> int:
    return int(receipt.gas_used)


def measure(
    sizes: tuple[int, ...] = DEFAULT_SIZES, whitelist_sizes: tuple[int, ...] = DEFAULT_WHITELIST_SIZES
) -> GasReport:
    """Deploys everything on a fresh local chain and measures; the network must not be connected yet."""
    with local_chain() as ape:
        return _measure(ape, sizes, whitelist_sizes)


def _measure(ape: Any, sizes: tuple[int, ...], whitelist_sizes: tuple[int, ...]) -> GasReport:
    from operator_toolkit.deployment import deploy_leverage_guard
    from operator_toolkit.multisig import Governance
    from operator_toolkit.pool_setup import CHALLENGE_PERIOD, configure

    project, chain, accounts = ape.project, ape.chain, ape.accounts
    report = GasReport()
    test = accounts.test_accounts
    signers, guardian, validator, registrar, sponsor = list(test[0:3]), test[3], test[4], test[5], test[8]
    deployer = test[0]

    token = deployer.deploy(project.TestUSDT)
    guard = deploy_leverage_guard(project, deployer, token, signers, 2).guard
    floor = deployer.deploy(floor_contracts(project)["FloorWriter"])
    configure(guard, signers, guardian, validator, registrar)
    report.max_batch_size = max_batch = int(guard.MAX_BATCH_SIZE())
    report.skipped_sizes = [n for n in (*sizes, *whitelist_sizes) if n > max_batch]
    sizes = tuple(n for n in sizes if n <= max_batch)
    whitelist_sizes = tuple(n for n in whitelist_sizes if n <= max_batch)

    # Governance, measured on a real parameter change: high enough limits for the largest batches.
    gov = Governance(guard, signers)
    data = guard.setDailyPayoutLimit.encode_input(10**9 * USDT)
    proposed = guard.propose(guard, 0, data, sender=signers[0])
    confirmed = guard.confirm(int(proposed.return_value), sender=signers[1])
    executed = guard.execute(int(proposed.return_value), sender=signers[0])
    report.rows += [Row("propose", 1, _gas(proposed)), Row("confirm", 1, _gas(confirmed))]
    report.rows.append(Row("execute (setDailyPayoutLimit)", 1, _gas(executed)))
    gov(guard.setDailyWithdrawalLimit, 10**9 * USDT)
    gov(guard.setMaxPayoutPerClaim, 5_000 * USDT)
    gov(guard.setDailyApprovalLimit, 10**9 * USDT)

    # Floors of token movements: a fresh recipient (zero balance before), a funded sender.
    token.mint(sponsor, 10**9 * USDT, sender=sponsor)
    fresh = [accounts.test_accounts.generate_test_account() for _ in range(3)]
    transfers = [_gas(token.transfer(a, PAYOUT, sender=sponsor)) for a in fresh]
    report.floors["erc20_transfer_fresh"] = transfer_floor = min(transfers)
    token.approve(deployer, 10**9 * USDT, sender=sponsor)
    pulls = [_gas(token.transferFrom(sponsor, fresh[0], USDT, sender=deployer)) for _ in range(2)]
    report.floors["erc20_transferFrom_funded"] = pull_floor = pulls[-1]

    # Deposits: the first funds the pool, the second is what every later deposit costs.
    token.approve(guard, 10**9 * USDT, sender=sponsor)
    guard.deposit(500_000 * USDT, sender=sponsor)
    deposit = guard.deposit(1_000 * USDT, sender=sponsor)
    report.rows.append(Row("deposit", 1, _gas(deposit), "ERC-20 transferFrom tx", pull_floor))
    withdraw = gov(guard.withdraw, accounts.test_accounts.generate_test_account(), PAYOUT)
    report.rows.append(
        Row("withdraw (execute of a proposal)", 1, _gas(withdraw), "ERC-20 transfer tx", transfer_floor)
    )

    # Whitelisting: the measured batches, then enough more traders for every claim below.
    verdict_claims = 1 + sum(sizes)
    payout_claims = 1 + sum(sizes)
    needed = verdict_claims
    traders = [
        accounts.test_accounts.generate_test_account() for _ in range(max(needed, sum(whitelist_sizes)))
    ]
    end = int(chain.pending_timestamp) + 365 * 86_400
    start = 0
    wl_gas: dict[int, int] = {}
    for n in whitelist_sizes:
        batch = traders[start : start + n]
        refs = [bytes.fromhex(f"{i + 1:064x}") for i in range(start, start + n)]
        mine = _gas(guard.addToWhitelist(batch, refs, COVERAGE, end, sender=registrar))
        theirs = _gas(floor.addToWhitelist(batch, refs, COVERAGE, end, sender=registrar))
        report.rows.append(Row("addToWhitelist", n, mine, "FloorWriter.addToWhitelist", theirs, n))
        wl_gas[n] = mine
        start += n
    while start < len(traders):
        batch = traders[start : start + max_batch]
        refs = [bytes.fromhex(f"{i + 1:064x}") for i in range(start, start + len(batch))]
        guard.addToWhitelist(batch, refs, COVERAGE, end, sender=registrar)
        floor.addToWhitelist(batch, refs, COVERAGE, end, sender=registrar)
        start += len(batch)
    report.marginal["addToWhitelist"] = _marginal(wl_gas)

    # Claims: one per trader, on the pool and on the floor with the same arguments.
    for trader in traders[:needed]:
        chain.set_balance(trader, 10**18)
    claim_ids: list[int] = []
    floor_ids: list[int] = []
    claim_gas: list[int] = []
    floor_claim_gas: list[int] = []
    for i, trader in enumerate(traders[:needed]):
        order_id = f"{int(ORDER_ID) + i}"
        receipt = guard.submitClaim(1, order_id, INSTRUMENT, LOSS, sender=trader)
        claim_ids.append(int(receipt.return_value))
        claim_gas.append(_gas(receipt))
        receipt = floor.submitClaim(1, order_id, INSTRUMENT, LOSS, sender=trader)
        floor_ids.append(int(receipt.return_value))
        floor_claim_gas.append(_gas(receipt))
    # The first claim also turns the claim counter from zero to non-zero; the second is the usual cost.
    typical = 1 if len(claim_gas) > 1 else 0
    report.rows.append(
        Row("submitClaim", 1, claim_gas[typical], "FloorWriter.submitClaim", floor_claim_gas[typical])
    )

    # Verdicts: a single one, then batches of each size; all approvals.
    single = guard.postVerification(claim_ids[0], True, PAYOUT, EVIDENCE, 0, sender=validator)
    floor_single = floor.postVerification(floor_ids[0], True, PAYOUT, EVIDENCE, 0, sender=validator)
    report.floors["FloorWriter.postVerification"] = _gas(floor_single)
    report.rows.append(
        Row("postVerification", 1, _gas(single), "FloorWriter.postVerification", _gas(floor_single))
    )
    cursor = 1
    verdict_gas: dict[int, int] = {}
    for n in sizes:
        ids, fids = claim_ids[cursor : cursor + n], floor_ids[cursor : cursor + n]
        mine = _gas(guard.postVerifications([(i, True, PAYOUT, EVIDENCE, 0) for i in ids], sender=validator))
        theirs = _gas(
            floor.postVerifications([(i, True, PAYOUT, EVIDENCE, 0) for i in fids], sender=validator)
        )
        report.rows.append(
            Row("postVerifications", n, mine, "FloorWriter.postVerifications (same n)", theirs, n)
        )
        verdict_gas[n] = mine
        cursor += n
    report.marginal["postVerifications"] = _marginal(verdict_gas)

    # Payouts after the challenge window.
    chain.mine(timestamp=int(chain.pending_timestamp) + CHALLENGE_PERIOD + 1)
    assert payout_claims == len(claim_ids)
    single_pay = guard.executePayout(claim_ids[0], sender=sponsor)
    report.rows.append(Row("executePayout", 1, _gas(single_pay), "ERC-20 transfer tx", transfer_floor))
    cursor = 1
    payout_gas: dict[int, int] = {}
    for n in sizes:
        receipt = guard.executePayouts(claim_ids[cursor : cursor + n], sender=sponsor)
        paid = sum(1 for log in receipt.events if log.event_name == "PayoutExecuted")
        if paid != n:
            raise AssertionError(f"executePayouts({n}) paid {paid} claims")
        report.rows.append(Row("executePayouts", n, _gas(receipt), "ERC-20 transfer tx", transfer_floor))
        payout_gas[n] = _gas(receipt)
        cursor += n
    report.marginal["executePayouts"] = _marginal(payout_gas)
    return report


def _marginal(by_n: dict[int, int]) -> dict[int, float]:
    if 1 not in by_n:
        return {}
    return {n: (gas - by_n[1]) / (n - 1) for n, gas in by_n.items() if n > 1}


def table(report: GasReport) -> str:
    rows = []
    for r in report.rows:
        marginal = report.marginal.get(r.operation, {}).get(r.n)
        rows.append(
            [
                r.operation,
                r.n,
                f"{r.gas:,}",
                f"{r.per_item:,.0f}",
                "" if marginal is None else f"{marginal:,.0f}",
                r.floor_name or "—",
                "" if r.floor_per_item is None else f"{r.floor_per_item:,.0f}",
                "" if r.ratio is None else f"{r.ratio:.2f}",
            ]
        )
    headers = [
        "operation",
        "n",
        "gas / tx",
        "gas / item",
        "marginal / item",
        "floor",
        "floor / item",
        "ratio",
    ]
    return markdown_table(headers, rows)


def targets(report: GasReport, n: int = 50) -> list[tuple[str, float | None, float, bool | None]]:
    """(target, measured ratio, limit, met) for the issue's gas targets: batches at size n, single claims."""
    out: list[tuple[str, float | None, float, bool | None]] = []
    for operation, size, limit in (
        ("executePayouts", n, 0.8),
        ("postVerifications", n, 1.2),
        ("submitClaim", 1, 1.15),
    ):
        try:
            ratio = report.row(operation, size).ratio
        except StopIteration:
            ratio = None
        met = None if ratio is None else ratio <= limit
        what = f"{operation} per claim (batch of {size})" if size > 1 else operation
        out.append((f"{what} <= {limit} x floor", ratio, limit, met))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--whitelist-sizes", default=",".join(map(str, DEFAULT_WHITELIST_SIZES)))
    parser.add_argument("--out", default="gas.json", help="file name under bench/results/")
    args = parser.parse_args(argv)
    sizes = tuple(int(s) for s in args.sizes.split(","))
    whitelist_sizes = tuple(int(s) for s in args.whitelist_sizes.split(","))
    report = measure(sizes, whitelist_sizes)
    print("## Gas per operation against its floor (one run, anvil)\n")
    print(table(report))
    if report.skipped_sizes:
        print(f"\nskipped (above MAX_BATCH_SIZE {report.max_batch_size}): {report.skipped_sizes}")
    print()
    payload = report.to_json()
    payload["targets"] = []
    for name, ratio, limit, met in targets(report):
        shown = "n/a" if ratio is None else f"{ratio:.2f}"
        print(f"- target {name}: {shown} -> {'MET' if met else 'MISSED' if met is False else 'n/a'}")
        payload["targets"].append({"target": name, "ratio": ratio, "limit": limit, "met": met})
    path = write_json(args.out, payload)
    print(f"\nwrote {path.relative_to(path.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
