"""Shared by the benchmarks: the local chain, the deployed pool, the floor contracts, memory readings.

The benchmarks are plain Python programs (ape looks scripts up in `scripts/` only). Each one opens its own
`ethereum:local:foundry` network, so ape starts a private anvil on a free port (`host: auto`).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
FLOOR_DIR = BENCH_DIR / "contracts"
FLOOR_CACHE = ROOT / ".build" / "bench-contracts.json"
NETWORK = "ethereum:local:foundry"


PlanT = TypeVar("PlanT")

LEAN_ANVIL_STATES = 256
"""States a lean anvil keeps in memory (``--prune-history``): the keeper reads at the head only."""


@contextmanager
def local_chain(lean: bool = False) -> Iterator[Any]:
    """Connects to a fresh local anvil; yields the ape module (accounts, chain, project...).

    ``lean``: the anvil keeps no step traces and only the last ``LEAN_ANVIL_STATES`` states. ape-foundry
    always starts anvil with ``--steps-tracing`` (for ape's revert traces, which the keeper does not use:
    it decodes reverts itself); with it, the 10,000-claim burst's anvil reached 21 GB and did not finish.
    """
    os.chdir(ROOT)
    import ape
    from ape_foundry.provider import FoundryProvider

    build_command = FoundryProvider.build_command

    def lean_command(provider: FoundryProvider) -> list[str]:
        command = [part for part in build_command(provider) if part != "--steps-tracing"]
        return [*command, "--prune-history", str(LEAN_ANVIL_STATES)]

    if lean:
        FoundryProvider.build_command = lean_command  # type: ignore[method-assign, assignment]
    try:
        with ape.networks.parse_network_choice(NETWORK):
            yield ape
    finally:
        FoundryProvider.build_command = build_command  # type: ignore[method-assign]


def _floor_digest() -> str:
    digest = hashlib.sha256((ROOT / "ape-config.yaml").read_bytes())
    for path in sorted(FLOOR_DIR.rglob("*.sol")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _compile_floors() -> dict[str, Any]:
    """Standard-JSON compile with the project's settings (ape-config.yaml: solc 0.8.37, optimizer 200 runs,
    via-IR, cancun), so a floor is optimised exactly as LeverageGuard is. The floors import nothing, so the
    solc under `SOLCX_BINARY_PATH` (the solc-js shim) is called directly."""
    import yaml

    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())["solidity"]
    solc = Path(os.environ.get("SOLCX_BINARY_PATH", ROOT / ".tools" / "solcx")) / f"solc-v{config['version']}"
    sources = {p.name: {"content": p.read_text()} for p in sorted(FLOOR_DIR.glob("*.sol"))}
    standard_input = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "optimizer": {"enabled": bool(config["optimize"]), "runs": int(config["optimization_runs"])},
            "viaIR": bool(config["via_ir"]),
            "evmVersion": config["evm_version"],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
        },
    }
    done = subprocess.run(
        [str(solc), "--standard-json"],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise RuntimeError(
            "floor contracts do not compile: " + "; ".join(e["formattedMessage"] for e in errors)
        )
    types = {}
    for contracts in output["contracts"].values():
        for name, out in contracts.items():
            types[name] = {
                "contractName": name,
                "abi": out["abi"],
                "deploymentBytecode": {"bytecode": "0x" + out["evm"]["bytecode"]["object"]},
                "runtimeBytecode": {"bytecode": "0x" + out["evm"]["deployedBytecode"]["object"]},
            }
    return types


def floor_contracts(project: Any) -> dict[str, Any]:
    """The floor contracts of `bench/contracts/` as ContractContainers, compiled once and cached in
    `.build/bench-contracts.json` (keyed by the sources and ape-config.yaml)."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    digest = _floor_digest()
    raw: dict[str, Any] | None = None
    if FLOOR_CACHE.is_file():
        try:
            cached = json.loads(FLOOR_CACHE.read_text())
            if cached.get("digest") == digest:
                raw = cached["contractTypes"]
        except (ValueError, KeyError):
            raw = None
    if raw is None:
        raw = _compile_floors()
        FLOOR_CACHE.parent.mkdir(parents=True, exist_ok=True)
        tmp = FLOOR_CACHE.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"digest": digest, "contractTypes": raw}))
        tmp.replace(FLOOR_CACHE)
    return {name: ContractContainer(ContractType.model_validate(ct)) for name, ct in raw.items()}


def rss_bytes() -> int:
    """Current resident set size of this process (VmRSS)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def write_json(name: str, payload: dict[str, Any]) -> Path:
    """``name``: a file name under bench/results/, or any path (absolute, or relative with a folder)."""
    given = Path(name)
    path = RESULTS_DIR / name if given.parent == Path(".") else given
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def markdown_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def bench_module(script: Path) -> str:
    """The module name ``python -m`` runs a benchmark file under (``bench/keeper.py``: ``bench.keeper``)."""
    return ".".join((BENCH_DIR.name, *script.resolve().relative_to(BENCH_DIR).with_suffix("").parts))


def run_child(script: Path, payload: dict[str, Any], what: str, attempt: int = 1) -> dict[str, Any]:
    """``python -m bench.SCRIPT --child PAYLOAD`` (a run in a process of its own, with its own anvil): the
    dict it printed on its last ``RESULT`` line. ``what`` names the run in the error when it fails."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", bench_module(script), "--child", json.dumps(payload)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "RPCTimeoutError" in done.stderr and "anvil" in done.stderr and attempt == 1:
        # anvil did not answer within ape's 20 s on a busy machine: start the run once more.
        return run_child(script, payload, what, attempt + 1)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stderr[-5000:])
        raise RuntimeError(f"{what} failed with exit code {done.returncode}")
    return dict(json.loads(lines[-1].removeprefix("RESULT ")))


def on_fresh_chain(
    run: Callable[[Any, PlanT, Path], dict[str, Any]], plan: PlanT, prefix: str
) -> dict[str, Any]:
    """``run(ape, plan, folder)`` on a fresh lean anvil, with a temporary folder (a bench child's one run)."""
    with local_chain(lean=True) as ape, tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return run(ape, plan, Path(tmp))
