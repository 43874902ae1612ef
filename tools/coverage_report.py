#!/usr/bin/env python3
"""Both Solidity coverage figures of contracts/, side by side, per file and in total (`make coverage`).

- forge: `forge coverage --ir-minimum --report lcov` over the forge suite (test/), from
  .build/forge-coverage/lcov.info;
- Python: tools/sol_coverage.py over the ape suite (tests/contract), from .build/coverage/lcov.info
  (its header line, with the run's trace counts, is in .build/coverage/summary.txt).

Only production sources count: contracts/**, without contracts/mocks and ape's contracts/.cache; test/,
tests/ and node_modules never do. Lines, branches and functions are computed the same way from both lcov
files (DA / BRDA / FN+FNDA records), so the two columns count what each tool instruments: the figures are
not the same units (forge maps an unoptimised IR build, sol_coverage the optimised deployed bytecode;
docs/coverage.md), which is why both are shown and neither replaces the other.

    tools/coverage_report.py [--forge PATH] [--python PATH] [--out PATH] [--fail-under-forge PCT]

Prints the table and writes it to .build/forge-coverage/summary.txt. Exit 1 if an input is missing (the
other is still shown) or the forge line figure is below --fail-under-forge.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORGE_LCOV = ROOT / ".build" / "forge-coverage" / "lcov.info"
PYTHON_LCOV = ROOT / ".build" / "coverage" / "lcov.info"
PYTHON_SUMMARY = ROOT / ".build" / "coverage" / "summary.txt"
OUT = ROOT / ".build" / "forge-coverage" / "summary.txt"
KINDS = ("lines", "branches", "functions")


@dataclass
class FileCov:
    lines: dict[int, int] = field(default_factory=dict)
    branches: dict[tuple[str, str, str], bool] = field(default_factory=dict)
    functions: dict[str, int] = field(default_factory=dict)

    def pair(self, kind: str) -> tuple[int, int]:
        if kind == "lines":
            return sum(1 for n in self.lines.values() if n > 0), len(self.lines)
        if kind == "branches":
            return sum(self.branches.values()), len(self.branches)
        return sum(1 for n in self.functions.values() if n > 0), len(self.functions)


def measured(path: str) -> bool:
    path = path.replace("\\", "/")
    if "/contracts/" in path and not path.startswith("contracts/"):
        path = path[path.index("/contracts/") + 1 :]  # an absolute SF: path
    return path.startswith("contracts/") and not path.startswith(("contracts/mocks/", "contracts/.cache/"))


def normalise(path: str) -> str:
    path = path.replace("\\", "/")
    return path[path.index("contracts/") :] if "contracts/" in path else path


def parse_lcov(path: Path) -> dict[str, FileCov]:
    files: dict[str, FileCov] = {}
    current: FileCov | None = None
    fn_names: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        key, _, value = raw.strip().partition(":")
        if key == "SF":
            current = FileCov() if measured(value) else None
            if current is not None:
                files[normalise(value)] = current
            fn_names = {}
        elif current is None:
            continue
        elif key == "DA":
            line, count = value.split(",")[:2]
            current.lines[int(line)] = max(current.lines.get(int(line), 0), int(float(count)))
        elif key == "BRDA":
            line, block, branch, taken = value.split(",", 3)
            hit = taken not in ("-", "") and int(float(taken)) > 0
            current.branches[(line, block, branch)] = (
                current.branches.get((line, block, branch), False) or hit
            )
        elif key == "FN":
            parts = value.split(",")  # FN:<line>,<name> (lcov 1) or FN:<line>,<end line>,<name> (lcov 2)
            name = f"{parts[0]}:{parts[-1]}"
            fn_names[parts[-1]] = name
            current.functions.setdefault(name, 0)
        elif key == "FNDA":
            count, name = value.split(",", 1)
            full = fn_names.get(name, name)
            current.functions[full] = max(current.functions.get(full, 0), int(float(count)))
        elif key == "FNL":  # lcov 2: FNL:<index>,<line>[,<end>] / FNA:<index>,<count>,<name>
            index, line = value.split(",")[:2]
            fn_names[f"#{index}"] = line
        elif key == "FNA":
            index, count, name = value.split(",", 2)
            full = f"{fn_names.get('#' + index, index)}:{name}"
            current.functions[full] = max(current.functions.get(full, 0), int(float(count)))
    return files


def pct(pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "-"
    hit, total = pair
    return f"{100.0 * hit / total:6.2f}% ({hit}/{total})" if total else "    -  (0/0)"


def report(forge: dict[str, FileCov] | None, python: dict[str, FileCov] | None) -> tuple[str, float | None]:
    names = sorted(set(forge or {}) | set(python or {}))
    header = ["File"] + [f"forge {k}" for k in KINDS] + [f"Python {k}" for k in KINDS]
    rows, totals = [], {side: {k: [0, 0] for k in KINDS} for side in ("forge", "python")}
    for name in names:
        sides = [d.get(name) for d in (forge, python) if d is not None]
        if not any(c.pair(k)[1] for c in sides if c for k in KINDS):
            continue  # interfaces, the proxy: no executable code on either side
        cells = [name]
        for side, data in (("forge", forge), ("python", python)):
            cov = (data or {}).get(name)
            for k in KINDS:
                pair = cov.pair(k) if cov else None
                cells.append(pct(pair) if data is not None else "n/a")
                if pair:
                    totals[side][k][0] += pair[0]
                    totals[side][k][1] += pair[1]
        rows.append(cells)
    total_row = ["Total"]
    for side, data in (("forge", forge), ("python", python)):
        for k in KINDS:
            total_row.append(pct(tuple(totals[side][k])) if data is not None else "n/a")  # type: ignore[arg-type]
    rows.append(total_row)
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{widths[0]}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    text = "\n".join([fmt.format(*header)] + [fmt.format(*r) for r in rows])
    hit, total = totals["forge"]["lines"]
    return text, (100.0 * hit / total if forge is not None and total else None)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--forge", type=Path, default=FORGE_LCOV, help=f"forge lcov (default {FORGE_LCOV.relative_to(ROOT)})"
    )
    ap.add_argument(
        "--python",
        type=Path,
        default=PYTHON_LCOV,
        help=f"sol_coverage lcov (default {PYTHON_LCOV.relative_to(ROOT)})",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--fail-under-forge", type=float, default=None, help="fail if forge lines < PCT")
    args = ap.parse_args(argv)

    missing, lines = [], []
    forge = parse_lcov(args.forge) if args.forge.is_file() else None
    python = parse_lcov(args.python) if args.python.is_file() else None
    for label, data, path in (("forge", forge, args.forge), ("Python", python, args.python)):
        if data is None:
            missing.append(f"{label} coverage not found: {path} (run `make coverage`)")
    lines.append(
        "Solidity coverage of contracts/: forge suite (forge coverage --ir-minimum, test/) | Python suite "
        "(tools/sol_coverage.py, tests/contract)"
    )
    for label, path in (("forge", args.forge), ("Python", args.python)):
        if path.is_file():
            lines.append(f"  {label}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    if args.python == PYTHON_LCOV and PYTHON_SUMMARY.is_file():
        lines.append("  Python run: " + PYTHON_SUMMARY.read_text().splitlines()[0].split(": ", 1)[-1])
    text, forge_lines = report(forge, python)
    lines.append(text)
    lines.append(
        "Branches are not comparable across the columns: forge counts each condition's sides in its IR "
        "build, sol_coverage reads sides from the optimised bytecode's step order (a lower bound)."
    )
    lines += missing
    status = 1 if missing else 0
    if args.fail_under_forge is not None and forge_lines is not None and forge_lines < args.fail_under_forge:
        lines.append(f"FAIL: forge line coverage {forge_lines:.2f}% is below {args.fail_under_forge}%")
        status = 1
    out = "\n".join(lines)
    print(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(out + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
