#!/usr/bin/env python3
"""Slither gate: fails on any High or Medium finding not triaged in slither-triage.toml.

Runs Slither over the foundry view of the project (foundry.toml: `forge build` through the solc shim given
by FOUNDRY_SOLC; crytic-compile never downloads a compiler here), with slither.config.json, and prints every
finding on one line:

    FAIL     Medium incorrect-equality contracts/LeverageGuard.sol:191 LeverageGuard.withdraw: ...
    triaged  Medium ... -- <reason from slither-triage.toml>
    note     Low    timestamp ...

Exit 0 when every High/Medium finding is triaged and every triage entry still matches a finding; 1 when not;
2 when Slither itself could not run. The full JSON report is kept in out/slither-report.json.

Usage: tools/slither-gate.py [--config slither.config.json] [--triage slither-triage.toml] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GATING = ("High", "Medium")
ORDER = {"High": 0, "Medium": 1, "Low": 2, "Informational": 3, "Optimization": 4}


def load_triage(path: Path) -> list[dict[str, str]]:
    entries: list[dict[str, str]] = tomllib.loads(path.read_text()).get("exclude", [])
    for i, entry in enumerate(entries):
        missing = [k for k in ("check", "function", "reason") if not str(entry.get(k, "")).strip()]
        if missing:
            raise SystemExit(f"{path}: entry {i + 1} lacks {', '.join(missing)}")
        unknown = set(entry) - {"check", "function", "expression", "reason"}
        if unknown:
            raise SystemExit(f"{path}: entry {i + 1} has unknown keys {sorted(unknown)}")
    return entries


def run_slither(config: Path, report: Path) -> dict[str, Any]:
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    slither = shutil.which("slither") or str(Path(sys.executable).parent / "slither")
    cmd = [
        slither,
        ".",
        "--config-file",
        str(config),
        "--json",
        str(report),
        "--show-ignored-findings",  # inline disables and slither.db.json do not bypass the triage file
        "--fail-none",  # this script decides
        "--disable-color",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if not report.is_file():
        sys.stderr.write(proc.stdout + proc.stderr)
        print(
            f"slither-gate: Slither produced no report (exit {proc.returncode}); output above",
            file=sys.stderr,
        )
        raise SystemExit(2)
    data: dict[str, Any] = json.loads(report.read_text())
    if not data.get("success"):
        sys.stderr.write(proc.stdout + proc.stderr)
        print(f"slither-gate: Slither failed: {data.get('error')}", file=sys.stderr)
        raise SystemExit(2)
    return data


def where(result: dict[str, Any]) -> tuple[str, str]:
    """(file:line of the most specific element, Contract.function of the first function element)."""
    elements = result.get("elements", [])
    function = ""
    for el in elements:
        if el.get("type") == "function":
            parent = el.get("type_specific_fields", {}).get("parent", {}).get("name", "")
            function = f"{parent}.{el.get('name')}" if parent else str(el.get("name"))
            break
    if not function:
        for el in elements:
            if el.get("type") == "contract":
                function = str(el.get("name"))
                break
    loc = ""
    for preferred in ("node", None):
        for el in elements:
            if preferred is None or el.get("type") == preferred:
                sm = el.get("source_mapping") or {}
                lines = sm.get("lines") or [0]
                if sm.get("filename_relative"):
                    loc = f"{sm['filename_relative']}:{lines[0]}"
                    break
        if loc:
            break
    return loc, function


def one_line(description: str) -> str:
    text = re.sub(r"\s*\([^()]*#\d+(-\d+)?\)", "", description)  # drop "(file.sol#12-34)"
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= 220 else text[:217] + "..."


def matches(entry: dict[str, str], result: dict[str, Any], function: str) -> bool:
    if entry["check"] != result.get("check") or entry["function"] != function:
        return False
    expression = entry.get("expression")
    return not expression or expression in result.get("description", "")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="slither.config.json")
    parser.add_argument("--triage", default="slither-triage.toml")
    parser.add_argument("--report", default="out/slither-report.json")
    parser.add_argument(
        "--quiet", action="store_true", help="print Low/Informational findings as counts only"
    )
    args = parser.parse_args()

    if not os.environ.get("FOUNDRY_SOLC") or not os.access(os.environ["FOUNDRY_SOLC"], os.X_OK):
        print(
            "slither-gate: FOUNDRY_SOLC must name the solc shim (run through `make analyze`)", file=sys.stderr
        )
        return 2
    if shutil.which("forge") is None:
        print("slither-gate: forge is not on PATH (run through `make analyze`)", file=sys.stderr)
        return 2

    triage = load_triage(ROOT / args.triage)
    data = run_slither(ROOT / args.config, ROOT / args.report)
    results = sorted(
        data.get("results", {}).get("detectors", []),
        key=lambda r: (ORDER.get(r.get("impact", ""), 9), r.get("check", ""), where(r)),
    )

    used = [0] * len(triage)
    failures = 0
    counts: dict[str, int] = {}
    for result in results:
        impact = result.get("impact", "?")
        loc, function = where(result)
        text = f"{impact:<13} {result.get('check')} {loc} {one_line(result.get('description', ''))}"
        hit = next((i for i, e in enumerate(triage) if matches(e, result, function)), None)
        if hit is not None:
            used[hit] += 1
        if impact in GATING:
            if hit is None:
                failures += 1
                print(f"FAIL     {text}")
            else:
                print(f"triaged  {text} -- {triage[hit]['reason']}")
        else:
            counts[impact] = counts.get(impact, 0) + 1
            if not args.quiet:
                print(f"note     {text}")

    stale = [e for e, n in zip(triage, used, strict=True) if n == 0]
    for entry in stale:
        print(
            f"STALE    triage entry matches no finding: {entry['check']} {entry['function']} "
            f"{entry.get('expression', '')!r} -- remove it from {args.triage}"
        )
    gated = sum(1 for r in results if r.get("impact") in GATING)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: ORDER.get(kv[0], 9)))
    print(
        f"slither-gate: {len(results)} findings; "
        f"High/Medium: {gated - failures} triaged, {failures} untriaged; "
        f"not gating: {summary or 'none'}; "
        f"stale triage entries: {len(stale)} (report: {args.report})"
    )
    if failures or stale:
        print("slither-gate: FAILED - fix the finding, or triage it in slither-triage.toml with a reason")
        return 1
    print("slither-gate: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
