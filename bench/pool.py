"""The chain side of a keeper bench run: the pool deployed, configured and funded (``deploy_pool``), its
traders whitelisted and their claims encoded (``prepare_claims``), the backlog filed in mined chunks
(``file_backlog``), and the keeper's chain client timing each verdict transaction (``instrumented_chain``)."""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

from bench.workload import DAY_SCALE

USDT = 10**6
FILING_CHUNK = 500


class RpcFiler:
    """Files claims straight over JSON-RPC (anvil impersonates the traders), off ape's provider, so a filer
    thread can run beside the keeper."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.uri, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def send(self, sender: str, to: str, data: str) -> str:
        return str(
            self.call("eth_sendTransaction", [{"from": sender, "to": to, "data": data, "gas": hex(400_000)}])
        )


@dataclass
class BenchPool:
    """A pool deployed and configured for a bench run, funded far beyond any workload's payouts."""

    guard: Any
    validator: Any
    registrar: Any
    signers: list[Any]


def deploy_pool(ape: Any) -> BenchPool:
    from operator_toolkit.deployment import deploy_leverage_guard
    from operator_toolkit.pool_setup import configure

    project, test = ape.project, ape.accounts.test_accounts
    signers, guardian, validator, registrar, sponsor = list(test[0:3]), test[3], test[4], test[5], test[8]
    token = signers[0].deploy(project.TestUSDT)
    guard = deploy_leverage_guard(project, signers[0], token, signers, 2).guard
    gov = configure(guard, signers, guardian, validator, registrar)
    gov(guard.setDailyPayoutLimit, 10**12 * USDT)
    # 1.1's caps (configure sets test-sized ones): a bench of thousands of claims must not be held by them.
    gov(guard.setDailyApprovalLimit, 10**12 * USDT)
    gov(guard.setMaxCoverageLimit, 10**12 * USDT)
    token.mint(sponsor, 10**10 * USDT, sender=sponsor)
    token.approve(guard, 10**10 * USDT, sender=sponsor)
    guard.deposit(10**10 * USDT, sender=sponsor)
    return BenchPool(guard, validator, registrar, signers)


def prepare_claims(
    ape: Any, pool: BenchPool, scenarios: Any, start_time: int
) -> tuple[RpcFiler, list[tuple[str, str]]]:
    """Whitelists one trader per exchange account (coverage far above anything the workload claims), moves
    the chain past the last liquidation, and encodes every claim's ``submitClaim`` as (trader, calldata)."""
    from keeper.interface import Exchange

    chain, guard = ape.chain, pool.guard
    filer = RpcFiler(chain.provider.http_uri)
    filer.call("anvil_autoImpersonateAccount", [True])
    trader_of: dict[str, str] = {}
    for i, account in enumerate(scenarios.accounts):
        trader_of[account.account_ref] = address = "0x" + f"{0xB0000 + i:040x}"
        filer.call("anvil_setBalance", [address, hex(10**20)])
    refs = list(trader_of)
    for i in range(0, len(refs), 200):
        chunk = refs[i : i + 200]
        guard.addToWhitelist(
            [trader_of[r] for r in chunk],
            [bytes.fromhex(r[2:]) for r in chunk],
            10**12 * USDT,
            start_time + 365 * 86_400,
            sender=pool.registrar,
        )
    # Every liquidation is at most 30 squeezed days after the anchor; file after the last one.
    chain.mine(timestamp=start_time + 60 + 31 * DAY_SCALE)
    calls = []
    for expected in scenarios.expected:
        c = expected.claim
        data = guard.submitClaim.encode_input(
            Exchange.from_slug(c["exchange"]), c["order_id"], c["instrument"], c["claimed_loss"]
        )
        calls.append((trader_of[c["account_ref"]], "0x" + bytes(data).hex()))
    return filer, calls


def file_backlog(filer: RpcFiler, guard: Any, calls: list[tuple[str, str]]) -> tuple[list[str], float]:
    """Files ``calls`` as a backlog: their transaction hashes, and when (``time.perf_counter``) the first
    block of claims was mined (a keeper already running sees claims from then on).

    anvil answers before it has mined everything, and a pool of thousands of pending transactions mines
    slower and slower: file in chunks, each mined before the next. With automine, anvil made one block per
    claim, and at 10,000 claims it held 11 GB and mined 10 blocks/s (ape-foundry runs it with
    --steps-tracing): a chunk is mined in as few blocks as its gas fits instead. Automine is back on after.
    """
    hashes: list[str] = []
    first_mined: float | None = None
    first = int(guard.claimCount())
    filer.call("evm_setAutomine", [False])
    try:
        for start in range(0, len(calls), FILING_CHUNK):
            chunk = calls[start : start + FILING_CHUNK]
            hashes += [filer.send(sender, guard.address, data) for sender, data in chunk]
            waited = time.perf_counter()
            while int(guard.claimCount()) < first + start + len(chunk):
                if time.perf_counter() - waited > 120:
                    mined = int(guard.claimCount()) - first
                    raise RuntimeError(f"only {mined} of {len(calls)} claims were mined")
                filer.call("evm_mine", [])
                first_mined = first_mined or time.perf_counter()
    finally:
        filer.call("evm_setAutomine", [True])
    return hashes, first_mined or time.perf_counter()


def instrumented_chain(base: Any) -> Any:
    class BenchChain(base):  # type: ignore[misc]
        """Times every verdict transaction (the client counts its own contract reads: ``reads``)."""

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.posted_at: dict[int, float] = {}
            self.sent: list[dict[str, Any]] = []

        def settle(self, pending: Any) -> Any:
            # Every write is settled here (a verdict batch one batch later, a payout at once).
            sent = super().settle(pending)
            kind = "verify" if pending.method == "postVerifications" else "payout"
            if kind == "verify":
                now = time.perf_counter()
                for claim_id in sent.claim_ids:
                    self.posted_at.setdefault(claim_id, now)
            self.sent.append({"kind": kind, "gas": sent.gas_used or 0, "n": len(sent.claim_ids)})
            return sent

    return BenchChain
