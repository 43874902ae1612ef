"""Solidity line, statement, branch and function coverage of `contracts/` for the ape test suite.

Why this exists: ape's own `ape test --coverage` needs the compiler plugin to build a coverage profile, and
ape-solidity 0.8.6 does not implement one (ape prints "No coverage data found"). `forge coverage` only runs
Solidity tests, and ours are Python. So this pytest plugin measures what the Python tests execute:

1. It wraps web3's HTTPProvider (the one ape-foundry talks to anvil through). Before every `eth_call` and
   `eth_estimateGas`, and after every `eth_sendRawTransaction`/`eth_sendTransaction` not already covered by
   its estimate, it asks anvil for the call tree (`callTracer`) and the step trace (struct logs without
   stack, memory or storage) of the same call on the same state. Estimates matter: ape estimates gas before
   sending, so reverting calls (the `ape.reverts` tests) are traced even though they never reach a block.
   A call already traced since the last state-changing request is not traced again.
2. Each step is attributed to the code running at its depth (the call tree gives each frame's target,
   delegatecalls included), and that code is identified as one of our contracts by comparing it with the
   `forge build --build-info` artifact (same compiler, same settings: identical bytecode apart from the
   metadata hash and immutables).
3. The program counters are mapped through the solc source map to the AST: a statement is covered when an
   executed instruction maps inside it; a line is executable when a statement with code starts on it. A
   branch is an `if` or `?:`: its true side is taken when, right after its condition, execution continues
   in the true body; its false side when it continues in the else body or, with no else, anywhere else in
   the same function.

Caveat: the contract is built with via-IR and the optimizer (as deployed). A statement to which no
instruction is attributed (folded or merged by the optimizer) is not counted, neither hit nor missed; branch
sides are read from step order and are a lower bound. docs/coverage.md has the details and the figures.

Use:  PYTHONPATH=tools ape test tests/contract -p sol_coverage
Needs: out/build-info from `forge build --build-info` (make coverage runs it; make analyze leaves one too).
Env:  SOLCOV_OUT (default .build/coverage, as `make analyze` wipes out/): summary.txt, lcov.info, hits.json.
      SOLCOV_FAIL_UNDER (default unset): fail the session when line coverage is below this percentage.
      SOLCOV_SKIP (default unset): comma-separated parts of test ids to run untraced (e.g. test_stateful).
      SOLCOV_DEBUG (default unset): print one line per trace (target, selector, steps, code per depth).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Our sources; test-only and mock contracts are not measured.
MEASURED_PREFIX = "contracts/"
NOT_MEASURED = ("contracts/test/", "contracts/mocks/", "contracts/.cache/")
CREATE_OPS = {"CREATE", "CREATE2"}
STATEMENT_TYPES = {
    "ExpressionStatement",
    "VariableDeclarationStatement",
    "Return",
    "EmitStatement",
    "RevertStatement",
    "IfStatement",
    "ForStatement",
    "WhileStatement",
    "DoWhileStatement",
    "Break",
    "Continue",
    "InlineAssembly",
    "TryStatement",
}
CODE_CHANGING = {
    "evm_revert",
    "anvil_revert",
    "anvil_reset",
    "hardhat_reset",
    "anvil_setCode",
    "hardhat_setCode",
    "anvil_loadState",
}
# The step trace without stack, memory or storage: the call tree (callTracer) says which code each depth runs.
TRACE_OPTS = {
    "disableStack": True,
    "disableStorage": True,
    "disableMemory": True,
    "enableMemory": False,
    "disableReturnData": True,
}
DEBUG = bool(os.environ.get("SOLCOV_DEBUG"))
# Requests that never change the chain's state.
READ_ONLY = {
    "eth_call",
    "eth_estimateGas",
    "eth_getCode",
    "eth_getBalance",
    "eth_getStorageAt",
    "eth_getTransactionCount",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getLogs",
    "eth_blockNumber",
    "eth_chainId",
    "net_version",
    "web3_clientVersion",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_accounts",
    "eth_syncing",
    "debug_traceCall",
    "debug_traceTransaction",
}


def _measured(path: str) -> bool:
    return path.startswith(MEASURED_PREFIX) and not path.startswith(NOT_MEASURED)


# ---------------------------------------------------------------------------------------------------------
# Static side: artifacts, source maps, AST
# ---------------------------------------------------------------------------------------------------------


def _strip_metadata(code: bytes) -> bytes:
    if len(code) < 2:
        return code
    n = int.from_bytes(code[-2:], "big")
    return code[: -(n + 2)] if n + 2 <= len(code) else code


def _instruction_offsets(code: bytes) -> list[int]:
    """pc of each instruction, in order."""
    pcs, pc = [], 0
    while pc < len(code):
        pcs.append(pc)
        op = code[pc]
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return pcs


def _decode_source_map(srcmap: str) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    s, ln, f = -1, -1, -1
    for entry in srcmap.split(";"):
        parts = entry.split(":")
        if len(parts) > 0 and parts[0] != "":
            s = int(parts[0])
        if len(parts) > 1 and parts[1] != "":
            ln = int(parts[1])
        if len(parts) > 2 and parts[2] != "":
            f = int(parts[2])
        out.append((s, ln, f))
    return out


@dataclass
class Branch:
    bid: int
    file: int
    line: int
    cond: tuple[int, int]
    true: tuple[int, int]
    false: tuple[int, int] | None
    whole: tuple[int, int]
    func: tuple[int, int]
    taken: list[bool] = field(default_factory=lambda: [False, False])


@dataclass
class Statement:
    file: int
    start: int
    length: int
    line: int
    hit: bool = False


@dataclass
class Function:
    file: int
    name: str
    line: int
    start: int
    length: int
    hit: bool = False


def _inside(r: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= r[0] and r[0] + r[1] <= outer[0] + outer[1]


def _src(node: dict[str, Any]) -> tuple[int, int, int]:
    s, ln, f = (int(x) for x in node["src"].split(":"))
    return s, ln, f


class SourceModel:
    """Statements, functions and branches of the measured files, from the AST."""

    def __init__(self, build_info: dict[str, Any]) -> None:
        self.paths: dict[int, str] = {}
        self.line_starts: dict[int, list[int]] = {}
        self.statements: list[Statement] = []
        self.functions: list[Function] = []
        self.branches: list[Branch] = []
        for path, src in build_info["output"]["sources"].items():
            if not _measured(path):
                continue
            fid = src["id"]
            self.paths[fid] = path
            text = (ROOT / path).read_bytes()
            starts = [0] + [i + 1 for i, b in enumerate(text) if b == 0x0A]
            self.line_starts[fid] = starts
            self._walk(src["ast"], fid, None)
        # For hit lookup: statements sorted per file.
        self.by_file: dict[int, list[Statement]] = defaultdict(list)
        for st in self.statements:
            self.by_file[st.file].append(st)

    def line_of(self, fid: int, offset: int) -> int:
        import bisect

        return bisect.bisect_right(self.line_starts[fid], offset)

    def _walk(self, node: Any, fid: int, func: tuple[int, int] | None) -> None:
        if isinstance(node, list):
            for item in node:
                self._walk(item, fid, func)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("nodeType")
        if kind in ("FunctionDefinition", "ModifierDefinition") and node.get("body"):
            s, ln, _ = _src(node)
            func = (s, ln)
            name = node.get("name") or node.get("kind", "")
            self.functions.append(Function(fid, name, self.line_of(fid, s), s, ln))
        if kind in STATEMENT_TYPES:
            s, ln, _ = _src(node)
            self.statements.append(Statement(fid, s, ln, self.line_of(fid, s)))
        if kind in ("IfStatement", "Conditional") and func is not None:
            cond = node["condition"]
            t = node["trueBody"] if kind == "IfStatement" else node["trueExpression"]
            fb = node.get("falseBody") if kind == "IfStatement" else node.get("falseExpression")
            cs, cl, _ = _src(cond)
            ts, tl, _ = _src(t)
            ws, wl, _ = _src(node)
            false = _src(fb)[:2] if fb else None
            self.branches.append(
                Branch(
                    len(self.branches), fid, self.line_of(fid, ws), (cs, cl), (ts, tl), false, (ws, wl), func
                )
            )
        for key, value in node.items():
            if key in ("nodeType", "src", "id"):
                continue
            if isinstance(value, dict | list):
                self._walk(value, fid, func)


@dataclass
class KnownCode:
    name: str
    ranges: dict[int, tuple[int, int, int]]  # pc -> (start, length, file)
    branch_conds: dict[int, list[int]]  # pc -> ids of branches whose condition holds this instruction


class Artifacts:
    def __init__(self, out_dir: Path) -> None:
        files = sorted(glob.glob(str(out_dir / "build-info" / "*.json")), key=os.path.getmtime)
        info = None
        for f in reversed(files):
            data = json.loads(Path(f).read_text())
            if "contracts/LeverageGuard.sol" in data["output"].get("contracts", {}):
                info = data
                break
        if info is None:
            raise RuntimeError(
                f"no forge build-info with contracts/LeverageGuard.sol under {out_dir}: run forge build"
            )
        self.model = SourceModel(info)
        self.runtime: list[tuple[bytes, list[tuple[int, int]], KnownCode]] = []
        self.creation: list[tuple[bytes, KnownCode]] = []
        for path, contracts in info["output"]["contracts"].items():
            if not _measured(path):
                continue
            for name, c in contracts.items():
                rt = c["evm"]["deployedBytecode"]
                if rt["object"]:
                    code = bytes.fromhex(rt["object"])
                    masks = [
                        (r["start"], r["length"])
                        for refs in rt.get("immutableReferences", {}).values()
                        for r in refs
                    ]
                    known = self._known(name, code, rt["sourceMap"])
                    self.runtime.append((self._normalise(code, masks), masks, known))
                bc = c["evm"]["bytecode"]
                if bc["object"]:
                    code = bytes.fromhex(bc["object"])
                    self.creation.append(
                        (_strip_metadata(code), self._known(name + " (constructor)", code, bc["sourceMap"]))
                    )
        self._cache: dict[str, KnownCode | None] = {}
        # Every source range some instruction of our bytecode maps to: what "has code" means.
        self.code_ranges: set[tuple[int, int, int]] = set()
        for known in [k for _, _, k in self.runtime] + [k for _, k in self.creation]:
            self.code_ranges.update(known.ranges.values())
        self.branch_ids: set[int] = {
            bid for _, _, k in self.runtime for ids in k.branch_conds.values() for bid in ids
        }
        self.branch_ids |= {bid for _, k in self.creation for ids in k.branch_conds.values() for bid in ids}

    @staticmethod
    def _normalise(code: bytes, masks: list[tuple[int, int]]) -> bytes:
        buf = bytearray(code)
        for start, length in masks:
            buf[start : start + length] = b"\0" * length
        return _strip_metadata(bytes(buf))

    def _known(self, name: str, code: bytes, srcmap: str) -> KnownCode:
        offsets = _instruction_offsets(code)
        entries = _decode_source_map(srcmap)
        ranges: dict[int, tuple[int, int, int]] = {}
        conds: dict[int, list[int]] = {}
        for pc, (s, ln, f) in zip(offsets, entries, strict=False):
            if f not in self.model.paths or s < 0:
                continue
            ranges[pc] = (s, ln, f)
            ids = [b.bid for b in self.model.branches if b.file == f and _inside((s, ln), b.cond)]
            if ids:
                conds[pc] = ids
        return KnownCode(name, ranges, conds)

    def identify_runtime(self, code_hex: str) -> KnownCode | None:
        key = hashlib.sha1(code_hex.encode()).hexdigest()
        if key not in self._cache:
            found = None
            code = bytes.fromhex(code_hex[2:] if code_hex.startswith("0x") else code_hex)
            for norm, masks, known in self.runtime:
                if len(code) >= len(norm) and self._normalise(code, masks) == norm:
                    found = known
                    break
            self._cache[key] = found
        return self._cache[key]

    def identify_creation(self, data_hex: str) -> KnownCode | None:
        key = "create:" + hashlib.sha1(data_hex.encode()).hexdigest()
        if key not in self._cache:
            found = None
            data = bytes.fromhex(data_hex[2:] if data_hex.startswith("0x") else data_hex)
            for stripped, known in self.creation:
                head = data[: len(stripped)]
                # Same code but for the two metadata hashes (runtime's, embedded, and the creation code's).
                if (
                    len(head) == len(stripped)
                    and sum(a != b for a, b in zip(head, stripped, strict=True)) <= 120
                ):
                    found = known
                    break
            self._cache[key] = found
        return self._cache[key]


# ---------------------------------------------------------------------------------------------------------
# Dynamic side: tracing through anvil
# ---------------------------------------------------------------------------------------------------------


class Recorder:
    def __init__(self, artifacts: Artifacts) -> None:
        self.art = artifacts
        self.hit_ranges: set[tuple[int, int, int]] = set()
        self.traces = 0
        self.steps = 0
        self.seconds = 0.0
        self.errors = 0
        self._last_estimate: tuple[Any, ...] | None = None
        # address -> our contract (or None) for addresses with code. Code at an address with code changes
        # only through the node's test methods (a snapshot revert, setCode, reset): those clear the cache.
        self._code_cache: dict[str, KnownCode | None] = {}
        self._seen: set[tuple[Any, ...]] = set()
        self.skipped = 0
        self.retries = 0
        self.enabled = True

    @staticmethod
    def _key(tx: dict[str, Any]) -> tuple[Any, ...]:
        return (
            str(tx.get("from", "")).lower(),
            str(tx.get("to") or "").lower(),
            str(tx.get("data") or tx.get("input") or "").lower(),
            int(str(tx.get("value") or "0x0"), 16)
            if isinstance(tx.get("value"), str)
            else int(tx.get("value") or 0),
        )

    def on_request(self, provider: Any, original: Any, method: str, params: Any) -> None:
        if not self.enabled:
            return
        if method in CODE_CHANGING:
            self._code_cache.clear()
        if method not in READ_ONLY:
            self._seen.clear()  # the chain's state may change: calls seen so far may now run differently
        if method in ("eth_call", "eth_estimateGas") and params:
            tx = dict(params[0])
            block = params[1] if len(params) > 1 and params[1] else "latest"
            key = self._key(tx)
            if method == "eth_estimateGas":
                self._last_estimate = key
            if not self._budget(key):
                return
            self._trace(provider, original, "debug_traceCall", [tx, block], tx)

    def on_response(self, provider: Any, original: Any, method: str, response: Any) -> None:
        if not self.enabled:
            return
        if method not in ("eth_sendRawTransaction", "eth_sendTransaction"):
            return
        tx_hash = response.get("result") if isinstance(response, dict) else None
        if not tx_hash:
            return
        tx = original(provider, "eth_getTransactionByHash", [tx_hash]).get("result") or {}
        key = self._key(tx)
        if self._last_estimate is not None and key == self._last_estimate:
            self._last_estimate = None
            return  # The estimate of this very call was traced (or skipped) on the same state.
        if self._budget(key):
            self._trace(provider, original, "debug_traceTransaction", [tx_hash], tx)

    def resume(self) -> None:
        """Back from an untraced test: whatever it did to the chain went unseen."""
        self.enabled = True
        self._seen.clear()
        self._code_cache.clear()

    def _budget(self, key: tuple[Any, ...]) -> bool:
        """A call (sender, target, calldata, value) already traced on the same state is not traced again: a
        property test re-reads its invariants several times between two transactions, and the same call on
        the same state runs the same code."""
        if key in self._seen:
            self.skipped += 1
            return False
        self._seen.add(key)
        return True

    def _trace(
        self, provider: Any, original: Any, method: str, params: list[Any], tx: dict[str, Any]
    ) -> None:
        started = time.perf_counter()
        try:
            calls = original(provider, method, [*params, {"tracer": "callTracer"}]).get("result")
            steps = original(provider, method, [*params, TRACE_OPTS]).get("result")
            for _ in range(2):
                # anvil now and then answers a step trace with no steps at all: ask again.
                if steps is None or steps.get("structLogs") or not calls:
                    break
                self.retries += 1
                steps = original(provider, method, [*params, TRACE_OPTS]).get("result")
            if not calls or not steps or not steps.get("structLogs"):
                self.errors += 1
                return
            self._consume(provider, original, steps.get("structLogs") or [], calls, tx)
            self.traces += 1
        except Exception:
            self.errors += 1
        finally:
            self.seconds += time.perf_counter() - started

    def _code_at(self, provider: Any, original: Any, address: str) -> tuple[bool, KnownCode | None]:
        """(has code, which of our contracts it is)."""
        if address not in self._code_cache:
            code = original(provider, "eth_getCode", [address, "latest"]).get("result") or "0x"
            if len(code) <= 2:
                return False, None  # not cached: a contract may be deployed there later
            self._code_cache[address] = self.art.identify_runtime(code)
        return True, self._code_cache[address]

    def _frames(self, provider: Any, original: Any, call: dict[str, Any]) -> list[KnownCode | None]:
        """Code of each sub-call that runs code, in the order the step trace enters them (depth-first)."""
        out: list[KnownCode | None] = []
        for sub in call.get("calls") or []:
            kind = str(sub.get("type", "")).upper()
            to = str(sub.get("to") or "").lower()
            if kind in CREATE_OPS:
                out.append(None)  # a factory's init code: not measured
            elif int(str(sub.get("gasUsed") or "0x0"), 16) == 0 or not to or int(to, 16) <= 0x100:
                continue  # precompile, or a call that ran no code (EOA, failed before starting)
            else:
                has_code, known = self._code_at(provider, original, to)
                if not has_code:
                    continue
                out.append(known)
            out.extend(self._frames(provider, original, sub))
        return out

    def _consume(
        self,
        provider: Any,
        original: Any,
        logs: list[dict[str, Any]],
        calls: dict[str, Any],
        tx: dict[str, Any],
    ) -> None:
        to = tx.get("to")
        if to:
            top = self._code_at(provider, original, to.lower())[1]
        else:
            top = self.art.identify_creation(str(tx.get("data") or tx.get("input") or ""))
        frame_list = self._frames(provider, original, calls)
        if DEBUG:
            print(
                f"solcov: to={to} data={str(tx.get('data') or tx.get('input') or '')[:10]} steps={len(logs)} "
                f"top={top.name if top else None} frames={[f.name if f else None for f in frame_list]} "
                f"maxdepth={max((x['depth'] for x in logs), default=0)} "
                f"calls={str(calls)[:300] if not logs else ''} tx={tx if not logs else ''}",
                file=sys.stderr,
            )
        entered = iter(frame_list)
        frames: list[KnownCode | None] = [top]
        pendings: list[dict[int, Branch]] = [{}]
        branches = self.art.model.branches
        hit = self.hit_ranges
        self.steps += len(logs)
        for step in logs:
            depth = step["depth"]
            if depth > len(frames):
                frames.append(next(entered, None))
                pendings.append({})
            elif depth < len(frames):
                del frames[depth:]
                del pendings[depth:]
            code = frames[-1]
            if code is None:
                continue
            pc = step["pc"]
            r = code.ranges.get(pc)
            if r is None:
                continue
            hit.add(r)
            pend = pendings[-1]
            if pend:
                rr = (r[0], r[1])
                for bid, br in list(pend.items()):
                    if br.file != r[2] or _inside(rr, br.cond):
                        continue
                    if _inside(rr, br.true):
                        br.taken[0] = True
                        del pend[bid]
                    elif (br.false is not None and _inside(rr, br.false)) or (
                        _inside(rr, br.func) and not _inside(rr, br.whole) and not _inside(br.whole, rr)
                    ):
                        br.taken[1] = True
                        del pend[bid]
            ids = code.branch_conds.get(pc)
            if ids:
                for bid in ids:
                    br = branches[bid]
                    if not all(br.taken):
                        pend[bid] = br


# ---------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------


def _ranges_to_text(lines: list[int]) -> str:
    out, i = [], 0
    while i < len(lines):
        j = i
        while j + 1 < len(lines) and lines[j + 1] == lines[j] + 1:
            j += 1
        out.append(str(lines[i]) if i == j else f"{lines[i]}-{lines[j]}")
        i = j + 1
    return ",".join(out)


def build_report(
    model: SourceModel,
    hit_ranges: set[tuple[int, int, int]],
    code_ranges: set[tuple[int, int, int]],
    branch_ids: set[int],
) -> dict[str, Any]:
    """Only what has code counts: a statement (or function) to which no instruction of the optimised via-IR
    bytecode is attributed (a storage-pointer getter, a store merged into its neighbour's SSTORE, an empty
    `__X_init()`) cannot be executed on its own, so it is neither hit nor missed, like a comment line."""

    def index(ranges: set[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
        out: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for s, ln, f in ranges:
            out[f].append((s, ln))
        return out

    hits, code = index(hit_ranges), index(code_ranges)
    executable: list[Statement] = []
    for st in model.statements:
        span = (st.start, st.length)
        if any(_inside(r, span) for r in code.get(st.file, ())):
            executable.append(st)
            st.hit = any(_inside(r, span) for r in hits.get(st.file, ()))
    fn_list: list[Function] = []
    for fn in model.functions:
        span = (fn.start, fn.length)
        if any(_inside(r, span) for r in code.get(fn.file, ())):
            fn_list.append(fn)
            fn.hit = any(_inside(r, span) for r in hits.get(fn.file, ()))
    files: dict[str, Any] = {}
    for fid, path in sorted(model.paths.items(), key=lambda kv: kv[1]):
        stmts = [st for st in executable if st.file == fid]
        lines: dict[int, bool] = {}
        for st in stmts:
            lines[st.line] = lines.get(st.line, False) or st.hit
        brs = [b for b in model.branches if b.file == fid and b.bid in branch_ids]
        fns = [f for f in fn_list if f.file == fid]
        files[path] = {
            "lines": (sum(lines.values()), len(lines)),
            "statements": (sum(s.hit for s in stmts), len(stmts)),
            "branches": (sum(sum(b.taken) for b in brs), 2 * len(brs)),
            "functions": (sum(f.hit for f in fns), len(fns)),
            "missed_lines": sorted(ln for ln, h in lines.items() if not h),
            "missed_branches": sorted(
                f"{b.line}{'' if b.taken[0] else 'T'}{'' if b.taken[1] else 'F'}"
                for b in brs
                if not all(b.taken)
            ),
            "line_hits": lines,
            "branch_list": [(b.line, b.taken) for b in brs],
            "function_list": [(f.line, f.name, f.hit) for f in fns],
        }
    return files


def _pct(pair: tuple[int, int]) -> str:
    hit, total = pair
    return f"{100.0 * hit / total:6.2f}% ({hit}/{total})" if total else "     - (0/0)"


def format_report(files: dict[str, Any]) -> tuple[str, float]:
    kinds = ("lines", "statements", "branches", "functions")

    def row(name: str, pairs: list[tuple[int, int]]) -> str:
        return f"{name:<46}" + "".join(f" {_pct(p):>20}" for p in pairs)

    rows = [f"{'File':<46}" + "".join(f" {k.capitalize():>20}" for k in kinds)]
    totals = {k: (0, 0) for k in kinds}
    for path, r in files.items():
        if not r["statements"][1] and not r["functions"][1]:
            continue
        rows.append(row(path, [r[k] for k in kinds]))
        for k in kinds:
            totals[k] = (totals[k][0] + r[k][0], totals[k][1] + r[k][1])
    rows.append(row("Total", [totals[k] for k in kinds]))
    for path, r in files.items():
        if r["missed_lines"]:
            rows.append(f"  missed lines    {path}: {_ranges_to_text(r['missed_lines'])}")
        if r["missed_branches"]:
            rows.append(
                f"  missed branches {path} (line + side not taken): {', '.join(r['missed_branches'])}"
            )
    lines_hit, lines_total = totals["lines"]
    line_pct = 100.0 * lines_hit / lines_total if lines_total else 0.0
    return "\n".join(rows), line_pct


def write_lcov(files: dict[str, Any], dest: Path) -> None:
    out = []
    for path, r in files.items():
        out.append("TN:")
        out.append(f"SF:{path}")
        for line, name, hit in r["function_list"]:
            out.append(f"FN:{line},{name}")
            out.append(f"FNDA:{int(hit)},{name}")
        out.append(f"FNF:{r['functions'][1]}")
        out.append(f"FNH:{r['functions'][0]}")
        for n, (line, taken) in enumerate(r["branch_list"]):
            for side in (0, 1):
                out.append(f"BRDA:{line},{n},{side},{1 if taken[side] else '-'}")
        out.append(f"BRF:{r['branches'][1]}")
        out.append(f"BRH:{r['branches'][0]}")
        for line, hit in sorted(r["line_hits"].items()):
            out.append(f"DA:{line},{int(hit)}")
        out.append(f"LF:{r['lines'][1]}")
        out.append(f"LH:{r['lines'][0]}")
        out.append("end_of_record")
    dest.write_text("\n".join(out) + "\n")


# ---------------------------------------------------------------------------------------------------------
# pytest plugin hooks
# ---------------------------------------------------------------------------------------------------------

_recorder: Recorder | None = None
_started = 0.0


def _is_ape_node(provider: Any) -> bool:
    """Only the node ape's active provider (ape-foundry's anvil) talks to is traced."""
    try:
        from ape.utils.basemodel import ManagerAccessMixin

        active = ManagerAccessMixin.network_manager.active_provider
        return active is not None and str(getattr(active, "uri", "")) == str(provider.endpoint_uri)
    except Exception:
        return False


def pytest_configure(config: Any) -> None:
    global _recorder, _started
    from web3.providers.rpc import HTTPProvider

    _started = time.perf_counter()
    try:
        _recorder = Recorder(Artifacts(ROOT / "out"))
    except Exception as exc:
        if os.environ.get("SOLCOV_FAIL_UNDER"):
            raise
        print(f"sol_coverage: disabled ({exc})", file=sys.stderr)
        return
    original = HTTPProvider.make_request
    recorder = _recorder

    def make_request(self: Any, method: str, params: Any) -> Any:
        if not _is_ape_node(self):  # e.g. a keeper test's own fake RPC server: leave it alone
            return original(self, method, params)
        recorder.on_request(self, original, method, params)
        response = original(self, method, params)
        recorder.on_response(self, original, method, response)
        return response

    HTTPProvider.make_request = make_request  # type: ignore[method-assign]


_report: tuple[str, str, Path] | None = None
# Tests whose node id contains one of these (comma-separated) run untraced: `make test` skips the
# property-based state machine, whose thousands of random transactions would cost minutes of tracing.
SKIP = [x for x in os.environ.get("SOLCOV_SKIP", "").split(",") if x]


def pytest_runtest_setup(item: Any) -> None:
    if _recorder is not None:
        _recorder.enabled = not any(x in item.nodeid for x in SKIP)


def pytest_runtest_teardown(item: Any) -> None:
    if _recorder is not None and not _recorder.enabled:
        _recorder.resume()


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    global _report
    if _recorder is None:
        return
    rec = _recorder
    files = build_report(rec.art.model, rec.hit_ranges, rec.art.code_ranges, rec.art.branch_ids)
    text, line_pct = format_report(files)
    out_dir = ROOT / os.environ.get("SOLCOV_OUT", ".build/coverage")
    out_dir.mkdir(parents=True, exist_ok=True)
    header = (
        f"Solidity coverage of contracts/ (tools/sol_coverage.py): {rec.traces} traces "
        f"({rec.skipped} repeats skipped), {rec.steps} steps, "
        f"{'untraced tests: ' + ','.join(SKIP) + ', ' if SKIP else ''}"
        f"{rec.seconds:.1f}s tracing, {rec.errors} empty traces, {rec.retries} retries, "
        f"{time.perf_counter() - _started:.0f}s session"
    )
    if rec.traces and not rec.hit_ranges:
        text += (
            "\nWARNING: no traced code matched the forge build of contracts/: foundry.toml's compiler "
            "settings differ from ape-config.yaml's, or out/build-info is stale (`forge build --build-info`)"
        )
    fail_under = os.environ.get("SOLCOV_FAIL_UNDER")
    if fail_under and line_pct < float(fail_under):
        text += f"\nFAIL: line coverage {line_pct:.2f}% is below SOLCOV_FAIL_UNDER={fail_under}%"
        if session.exitstatus == 0:
            session.exitstatus = 1
    (out_dir / "summary.txt").write_text(header + "\n" + text + "\n")
    write_lcov(files, out_dir / "lcov.info")
    taken = {b.bid: b.taken for b in rec.art.model.branches if any(b.taken)}
    (out_dir / "hits.json").write_text(json.dumps({"ranges": sorted(rec.hit_ranges), "branches": taken}))
    _report = (header, text, out_dir)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _report is None:
        return
    header, text, out_dir = _report
    terminalreporter.section("Solidity coverage")
    terminalreporter.write_line(header)
    for row in text.splitlines():
        terminalreporter.write_line(row)
    terminalreporter.write_line(f"(written to {out_dir.relative_to(ROOT)}/summary.txt and lcov.info)")


def main() -> int:
    """Re-print the report from the last run's hits.json (after editing this file, say)."""
    out_dir = ROOT / os.environ.get("SOLCOV_OUT", ".build/coverage")
    art = Artifacts(ROOT / "out")
    data = json.loads((out_dir / "hits.json").read_text())
    hits = {(a, b, c) for a, b, c in data["ranges"]}
    for bid, taken in data["branches"].items():
        art.model.branches[int(bid)].taken = taken
    text, _ = format_report(build_report(art.model, hits, art.code_ranges, art.branch_ids))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
