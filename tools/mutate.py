#!/usr/bin/env python3
"""Mutation check of the forge suite (`make mutate`, docs/mutation.md).

Applies a fixed list of mutants of contracts/ (tools/mutations.toml) one at a time, each followed by the
forge suite (test/, test/proofs excluded), and reports each mutant as killed (by which test) or survived.
A survivor must be explained in docs/mutation.md under a heading `### <id>`.

Nothing is mutated in place: the tool snapshots contracts/, the selected test folders (plus the files they
import from test/ and tests/) and foundry.toml into scratch directories (node_modules symlinked), one per
parallel job, each with its own FOUNDRY_OUT/FOUNDRY_CACHE_PATH. A developer's unsaved work and other builds
of the repository are untouched; edits made to contracts/ while the tool runs are not seen by it.

Before any mutant, every entry is checked (its snippet must occur exactly once in its file, in the
snapshot) and the unmutated suite must pass under the same settings; otherwise the tool stops (exit 2).

Exit status: 0 iff the baseline passed and every mutant was killed or its survival is explained; 1 if a
survivor is unexplained or a mutant did not compile / forge failed oddly; 2 on a bad list or red baseline.

    tools/mutate.py                       # the default list, suite = test/ minus test/proofs
    tools/mutate.py --list                # check the list and print it (no forge run)
    tools/mutate.py --only LG-05,MS-03    # some mutants
    tools/mutate.py --tests test/unit,test/invariant --jobs 2
    tools/mutate.py --extra               # the default list plus the `extra = true` mutants

Forge settings for the baseline and the mutants: FOUNDRY_PROFILE=mutate when foundry.toml defines
[profile.mutate], otherwise the default profile with FOUNDRY_FUZZ_RUNS / FOUNDRY_INVARIANT_RUNS /
FOUNDRY_INVARIANT_DEPTH lowered (--fuzz-runs, --invariant-runs, --invariant-depth; explicit options win
over the profile too). Output: a table on stdout, .build/mutation/report.md and report.json, and each
forge run's output in .build/mutation/logs/<id>.log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = ROOT / "tools" / "mutations.toml"
DOC = ROOT / "docs" / "mutation.md"
OUT_DIR = ROOT / ".build" / "mutation"
KINDS = ("comparison", "boundary", "drop-revert", "effect", "event", "arithmetic", "access")
ID_RE = re.compile(r"^[A-Z]{2}-\d{2,3}$")
# Lighter campaign for mutants when foundry.toml has no [profile.mutate]: a mutant that breaks a property
# is nearly always caught within a few short runs, and each mutant already costs a full via-IR recompile.
# The depth stays the profile's: campaigns that assert their key outcomes were reached (e.g. the governance
# invariants' "signerReAdded") need their full sequence length, and per-test inline `forge-config` run counts
# still apply.
DEFAULT_FUZZ_RUNS: int | None = 64
DEFAULT_INVARIANT_RUNS: int | None = 16
DEFAULT_INVARIANT_DEPTH: int | None = None


class ToolError(Exception):
    pass


@dataclass
class Mutant:
    id: str
    kind: str
    file: str
    original: str
    replacement: str
    description: str
    extra: bool = False
    line: int = 0


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | timeout | survived | explained | compile-error | error
    detail: str = ""
    seconds: float = 0.0
    log: str = ""


@dataclass
class Settings:
    profile: str | None
    env: dict[str, str] = field(default_factory=dict)
    dynamic_linking: bool = True

    def describe(self) -> str:
        parts = [f"FOUNDRY_PROFILE={self.profile}" if self.profile else "profile default"]
        parts += [f"{k}={v}" for k, v in sorted(self.env.items())]
        parts.append("dynamic test linking" if self.dynamic_linking else "static linking")
        return ", ".join(parts)


# ------------------------------------------------------------------------------------------ the list


def load_mutants(path: Path) -> list[Mutant]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ToolError(f"{path.relative_to(ROOT)}: {exc}") from exc
    mutants, seen, errors = [], set(), []
    for n, entry in enumerate(data.get("mutant", []), 1):
        missing = [
            k for k in ("id", "kind", "file", "original", "replacement", "description") if k not in entry
        ]
        unknown = set(entry) - {"id", "kind", "file", "original", "replacement", "description", "extra"}
        where = f"mutant #{n} ({entry.get('id', '?')})"
        if missing or unknown:
            errors.append(f"{where}: missing {missing} / unknown {sorted(unknown)} keys")
            continue
        m = Mutant(**{k: entry[k] for k in entry})
        if not ID_RE.match(m.id):
            errors.append(f"{where}: id must look like LG-01")
        if m.id in seen:
            errors.append(f"{where}: duplicate id")
        seen.add(m.id)
        if m.kind not in KINDS:
            errors.append(f"{where}: kind {m.kind!r} is not one of {', '.join(KINDS)}")
        if not m.file.startswith("contracts/") or m.file.startswith("contracts/mocks/"):
            errors.append(f"{where}: file must be a production source under contracts/")
        if not m.original.strip() or m.original == m.replacement:
            errors.append(f"{where}: empty snippet or replacement equal to it")
        mutants.append(m)
    if not mutants and not errors:
        errors.append("no [[mutant]] entries")
    if errors:
        raise ToolError(f"{path.relative_to(ROOT)}:\n  " + "\n  ".join(errors))
    return mutants


def check_snippets(mutants: list[Mutant], tree: Path) -> None:
    """Every snippet occurs exactly once in its file (of the snapshot `tree`); records its line."""
    errors = []
    for m in mutants:
        src = tree / m.file
        if not src.is_file():
            errors.append(f"{m.id}: {m.file} does not exist")
            continue
        text = src.read_text()
        count = text.count(m.original)
        if count != 1:
            first = m.original.strip().splitlines()[0]
            errors.append(f"{m.id}: snippet found {count} times in {m.file} (must be once): {first[:90]!r}")
            continue
        index = text.index(m.original)
        index += len(m.original) - len(m.original.lstrip())  # the line where the code starts
        m.line = text.count("\n", 0, index) + 1
    if errors:
        raise ToolError(
            "the mutant list no longer matches contracts/ (update tools/mutations.toml):\n  "
            + "\n  ".join(errors)
        )


def load_explanations(path: Path) -> dict[str, str]:
    """`### <ID> ...` headings of docs/mutation.md with a non-empty body."""
    if not path.is_file():
        return {}
    explained: dict[str, str] = {}
    current: str | None = None
    body: list[str] = []
    for line in [*path.read_text().splitlines(), "## end"]:
        if line.startswith("#"):
            if current and " ".join(body).strip():
                explained[current] = " ".join(body).strip()
            match = re.match(r"^###\s+([A-Z]{2}-\d{2,3})\b", line)
            current, body = (match.group(1) if match else None), []
        elif current:
            body.append(line.strip())
    return explained


# ------------------------------------------------------------------------------------------ scratch trees

IMPORT_RE = re.compile(r"""^\s*import\s+(?:[^;"']*?\bfrom\s+)?["']([^"']+)["']""", re.M)


def _test_sources(paths: list[Path], excluded: list[Path]) -> list[Path]:
    def skip(p: Path) -> bool:
        return any(p == e or e in p.parents for e in excluded)

    files = []
    for base in paths:
        if base.is_file():
            files.append(base)
        elif base.is_dir():
            files += [p for p in sorted(base.rglob("*")) if p.is_file() and not skip(p)]
        else:
            raise ToolError(f"--tests: {base.relative_to(ROOT)} does not exist")
    return files


def _import_closure(sources: list[Path]) -> set[Path]:
    """Files under test/ or tests/ that `sources` import, transitively (remapped imports excluded)."""
    local_roots = (ROOT / "test", ROOT / "tests")
    todo = [p for p in sources if p.suffix == ".sol"]
    found: set[Path] = set()
    while todo:
        src = todo.pop()
        for target in IMPORT_RE.findall(src.read_text(errors="replace")):
            candidate = (src.parent / target) if target.startswith(".") else (ROOT / target)
            candidate = Path(os.path.normpath(candidate))
            if not candidate.is_file() or not any(r in candidate.parents for r in local_roots):
                continue
            if candidate not in found:
                found.add(candidate)
                todo.append(candidate)
    return found


def make_snapshot(dest: Path, tests: list[Path], excluded: list[Path]) -> list[str]:
    """contracts/, foundry.toml, the test files and what they import, node_modules as a symlink."""
    dest.mkdir(parents=True)
    shutil.copytree(ROOT / "contracts", dest / "contracts", ignore=shutil.ignore_patterns(".cache"))
    for name in ("foundry.toml", "remappings.txt"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, dest / name)
    files = set(_test_sources(tests, excluded))
    files |= _import_closure(sorted(files))
    for src in sorted(files):
        target = dest / src.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")
    return sorted(str(p.relative_to(ROOT)) for p in files if p.suffix == ".sol")


def clone_tree(src: Path, dest: Path) -> None:
    """A copy of a worker tree with its build (so the copy's first mutant compiles only what it mutates)."""
    shutil.copytree(src, dest, symlinks=True)
    for cache in (dest / "cache").glob("*.json"):
        cache.write_text(cache.read_text().replace(str(src), str(dest)))


# ------------------------------------------------------------------------------------------ forge


def forge_env(work: Path, settings: Settings) -> dict[str, str]:
    # Inherited FOUNDRY_* settings (a developer's FOUNDRY_TEST, FOUNDRY_OUT...) would point forge elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOUNDRY_") or k == "FOUNDRY_SOLC"}
    env["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("FOUNDRY_SOLC", str(ROOT / ".tools" / "solcx" / "solc-v0.8.37"))
    env.update(
        FOUNDRY_SRC="contracts",
        FOUNDRY_TEST="test",
        FOUNDRY_OUT=str(work / "out"),
        FOUNDRY_CACHE_PATH=str(work / "cache"),
        NO_COLOR="1",
    )
    if settings.profile:
        env["FOUNDRY_PROFILE"] = settings.profile
    if settings.dynamic_linking:
        # Tests then deploy contracts/ from its artifacts instead of embedding its bytecode (forge rewrites
        # `new X(...)` of source contracts): a mutant recompiles the mutated file and its dependents in
        # contracts/, not the whole test suite (minutes of via-IR per mutant otherwise).
        env["FOUNDRY_DYNAMIC_TEST_LINKING"] = "true"
    env.update(settings.env)
    return env


FAIL_SUITE_RE = re.compile(r"^Encountered \d+ failing tests? in (\S+)")
# `[FAIL: reason] name(args) (gas: ...)`; the reason may hold brackets, the invariant form puts the name on a
# later line (`[FAIL: reason]`, `[Sequence]...`, `  invariant_x() (runs: ...)`).
FAIL_NAMED_RE = re.compile(r"^\[FAIL(?::\s*(.*))?\]\s+(\w+)\(.*\)\s+\((?:gas|runs|µ|~)")
FAIL_RE = re.compile(r"^\[FAIL(?::\s*(.*))?\]")
TEST_NAME_RE = re.compile(r"^\s*(\w+)\(.*\)\s+\((?:gas|runs|µ|~)")


def parse_failure(output: str) -> str | None:
    """`path:Contract.test (reason)` of the first failing test forge lists, or None."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        match = FAIL_SUITE_RE.match(line.strip())
        if not match:
            continue
        suite, reason, name = match.group(1), None, None
        for follow in lines[i + 1 : i + 60]:
            stripped = follow.strip()
            named = FAIL_NAMED_RE.match(stripped)
            if named:
                reason, name = (reason if reason is not None else named.group(1) or ""), named.group(2)
                break
            fail = FAIL_RE.match(stripped)
            if fail and reason is None:
                reason = fail.group(1) or ""
                continue
            plain = TEST_NAME_RE.match(follow)
            if plain and reason is not None:
                name = plain.group(1)
                break
        reason = re.sub(r"\s+", " ", reason or "").strip()
        reason = (reason[:97] + "...") if len(reason) > 100 else reason
        return f"{suite}.{name or '?'}" + (f" ({reason})" if reason else "")
    return None


RUNNING: set[int] = set()  # process groups of the forge runs in flight (killed on Ctrl-C)


def run_forge(work: Path, settings: Settings, timeout: float) -> tuple[str, str, float, str]:
    """Runs the suite in `work`: (status, detail, seconds, output); status pass | fail | timeout |
    compile-error | error."""
    cmd = ["forge", "test", "--fail-fast"]
    env = forge_env(work, settings)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    RUNNING.add(proc.pid)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # forge and the solc-js shim it started, nothing else
        output, _ = proc.communicate()
        return "timeout", f"no result after {timeout:.0f}s", time.monotonic() - started, output or ""
    finally:
        RUNNING.discard(proc.pid)
    seconds = time.monotonic() - started
    if proc.returncode == 0:
        return "pass", "", seconds, output
    if "Compiler run failed" in output or "Compilation failed" in output:
        first = next((ln.strip() for ln in output.splitlines() if ln.startswith("Error")), "compile error")
        return "compile-error", first[:120], seconds, output
    failure = parse_failure(output)
    if failure:
        return "fail", failure, seconds, output
    tail = " | ".join(ln.strip() for ln in output.strip().splitlines()[-3:])
    return "error", f"forge exit {proc.returncode}: {tail[:160]}", seconds, output


def restore_build(pristine: Path, work: Path) -> None:
    """Puts the baseline build back, so that each mutant starts from it: a mutant that changes a contract's
    interface (a modifier removed) recompiles every test, and without this so would the mutant after it."""
    for name in ("out", "cache"):
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(pristine / name, work / name)
    for cache in (work / "cache").glob("*.json"):
        cache.write_text(cache.read_text().replace(str(pristine), str(work)))


def run_mutant(m: Mutant, work: Path, settings: Settings, timeout: float, pristine: Path) -> Result:
    path = work / m.file
    original = path.read_text()
    assert original.count(m.original) == 1, m.id
    path.write_text(original.replace(m.original, m.replacement, 1))
    try:
        status, detail, seconds, output = run_forge(work, settings, timeout)
    finally:
        path.write_text(original)
        restore_build(pristine, work)
    log = OUT_DIR / "logs" / f"{m.id}.log"
    log.write_text(output)
    mapped = {"fail": "killed", "pass": "survived"}.get(status, status)
    return Result(m, mapped, detail, seconds, os.path.relpath(log, ROOT))


# ------------------------------------------------------------------------------------------ report


def result_text(r: Result) -> str:
    if r.status == "killed":
        return f"killed by {r.detail}"
    if r.status == "timeout":
        return f"killed (timeout: {r.detail})"
    if r.status == "explained":
        return "survived, explained (docs/mutation.md)"
    if r.status == "survived":
        return "SURVIVED, not explained"
    return f"{r.status.upper()}: {r.detail}"


def table(rows: list[list[str]], header: list[str]) -> str:
    esc = [[c.replace("|", "\\|") for c in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in esc)) if esc else len(h) for i, h in enumerate(header)]
    fmt = "| " + " | ".join(f"{{:<{w}}}" for w in widths) + " |"
    lines = [fmt.format(*header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [fmt.format(*row) for row in esc]
    return "\n".join(lines)


def mutant_row(m: Mutant) -> list[str]:
    return [m.id, m.kind, f"{m.file.removeprefix('contracts/')}:{m.line}", m.description]


def write_report(results: list[Result], summary: list[str], meta: dict[str, object]) -> str:
    rows = [[*mutant_row(r.mutant), result_text(r), f"{r.seconds:.0f}"] for r in results]
    text = table(rows, ["id", "kind", "file:line", "description", "result", "s"])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "report.md").write_text(
        "# Mutation report (tools/mutate.py)\n\n"
        + "\n".join(f"- {s}" for s in summary)
        + "\n\n"
        + text
        + "\n"
    )
    (OUT_DIR / "report.json").write_text(
        json.dumps(
            {
                **meta,
                "mutants": [
                    {
                        "id": r.mutant.id,
                        "kind": r.mutant.kind,
                        "file": r.mutant.file,
                        "line": r.mutant.line,
                        "description": r.mutant.description,
                        "status": r.status,
                        "detail": r.detail,
                        "seconds": round(r.seconds, 1),
                        "log": r.log,
                    }
                    for r in results
                ],
            },
            indent=2,
        )
        + "\n"
    )
    return text


# ------------------------------------------------------------------------------------------ main


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("--list", action="store_true", help="check the mutant list and print it; run nothing")
    ap.add_argument("--only", default="", help="comma-separated mutant ids (extra ones included)")
    ap.add_argument("--extra", action="store_true", help="also run the `extra = true` mutants")
    ap.add_argument("--tests", default="test", help="comma-separated test folders/files (default: test)")
    ap.add_argument(
        "--exclude", default="test/proofs", help="comma-separated paths left out (default: test/proofs)"
    )
    ap.add_argument(
        "--jobs", type=int, default=1, help="mutants run in parallel, each in its own copy (default 1)"
    )
    ap.add_argument(
        "--profile", default=None, help="FOUNDRY_PROFILE (default: mutate if foundry.toml has it)"
    )
    ap.add_argument("--fuzz-runs", type=int, default=None)
    ap.add_argument("--invariant-runs", type=int, default=None)
    ap.add_argument("--invariant-depth", type=int, default=None)
    ap.add_argument(
        "--static-linking",
        action="store_true",
        help="compile the whole suite per mutant (no FOUNDRY_DYNAMIC_TEST_LINKING); much slower",
    )
    ap.add_argument(
        "--timeout", type=float, default=None, help="seconds per mutant (default 3x baseline + 120)"
    )
    ap.add_argument("--workdir", default=None, help="where the scratch copies go (default: a new temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch copies")
    ap.add_argument("--out", default=None, help="report directory (default .build/mutation)")
    ap.add_argument(
        "--reuse-build",
        action="store_true",
        help="with --workdir: start from the build left there by a --keep run (skips the full compile)",
    )
    return ap.parse_args(argv)


def pick_settings(args: argparse.Namespace) -> Settings:
    has_profile = "[profile.mutate" in (ROOT / "foundry.toml").read_text()
    profile = args.profile or ("mutate" if has_profile else None)
    env: dict[str, str] = {}
    defaults = profile is None  # no profile of its own: lower the default profile's campaign
    for var, value, default in (
        ("FOUNDRY_FUZZ_RUNS", args.fuzz_runs, DEFAULT_FUZZ_RUNS),
        ("FOUNDRY_INVARIANT_RUNS", args.invariant_runs, DEFAULT_INVARIANT_RUNS),
        ("FOUNDRY_INVARIANT_DEPTH", args.invariant_depth, DEFAULT_INVARIANT_DEPTH),
    ):
        if value is not None or (defaults and default is not None):
            env[var] = str(value if value is not None else default)
    return Settings(profile if profile != "default" else None, env, dynamic_linking=not args.static_linking)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    try:
        mutants = load_mutants(MUTATIONS)
        if args.only:
            wanted = [x.strip() for x in args.only.split(",") if x.strip()]
            unknown = sorted(set(wanted) - {m.id for m in mutants})
            if unknown:
                raise ToolError(f"--only: unknown ids {', '.join(unknown)}")
            selected = [m for m in mutants if m.id in wanted]
        else:
            selected = [m for m in mutants if args.extra or not m.extra]
        if args.list:
            check_snippets(mutants, ROOT)
            rows = [mutant_row(m) + (["extra"] if m.extra else [""]) for m in mutants]
            print(table(rows, ["id", "kind", "file:line", "description", "set"]))
            kinds = {k: sum(1 for m in selected if m.kind == k) for k in KINDS}
            print(
                f"\n{len(mutants)} mutants ({len(mutants) - sum(m.extra for m in mutants)} default); "
                f"snippets all match once. Default run by kind: "
                + ", ".join(f"{k} {n}" for k, n in kinds.items())
            )
            return 0

        global OUT_DIR
        if args.out:
            OUT_DIR = Path(args.out).resolve()
        settings = pick_settings(args)
        tests = [ROOT / p.strip() for p in args.tests.split(",") if p.strip()]
        excluded = [ROOT / p.strip() for p in args.exclude.split(",") if p.strip()]
        scratch = (
            Path(args.workdir).resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="lg-mutate-"))
        )
        saved = None
        if args.workdir:
            if args.reuse_build and (scratch / "w0" / "cache").is_dir():
                saved = Path(tempfile.mkdtemp(prefix="lg-mutate-build-"))
                for name in ("out", "cache"):
                    if (scratch / "w0" / name).exists():
                        shutil.move(scratch / "w0" / name, saved / name)
            if scratch.exists():
                shutil.rmtree(scratch)
            scratch.mkdir(parents=True)
        args.saved_build = saved
        try:
            return run(args, mutants, selected, settings, tests, excluded, scratch, started)
        finally:
            if args.keep:
                print(f"scratch copies kept in {scratch}")
            else:
                shutil.rmtree(scratch, ignore_errors=True)
    except ToolError as exc:
        print(f"mutate: {exc}", file=sys.stderr)
        return 2


def run(
    args: argparse.Namespace,
    mutants: list[Mutant],
    selected: list[Mutant],
    settings: Settings,
    tests: list[Path],
    excluded: list[Path],
    scratch: Path,
    started: float,
) -> int:
    base = scratch / "w0"
    copied = make_snapshot(base, tests, excluded)
    if args.saved_build:  # forge sees unchanged sources (same content, same mtimes) and compiles nothing
        for build in args.saved_build.iterdir():
            shutil.move(build, base / build.name)
        shutil.rmtree(args.saved_build, ignore_errors=True)
    check_snippets(mutants, base)  # against the snapshot the mutants will be applied to
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    (OUT_DIR / "logs").mkdir(parents=True)
    test_files = [f for f in copied if f.endswith(".t.sol")]
    print(
        f"mutate: {len(selected)} mutants, suite {', '.join(str(t.relative_to(ROOT)) for t in tests)} "
        f"({len(test_files)} test files, {len(copied)} Solidity files copied; excluded "
        f"{', '.join(str(e.relative_to(ROOT)) for e in excluded) or 'nothing'}), {settings.describe()}, "
        f"jobs {args.jobs}, scratch {scratch}",
        flush=True,
    )
    if not test_files:
        raise ToolError("no *.t.sol test file in the selected test folders")

    status, detail, base_seconds, output = run_forge(base, settings, timeout=args.timeout or 3600)
    (OUT_DIR / "logs" / "baseline.log").write_text(output)
    print(f"baseline (unmutated): {status} in {base_seconds:.0f}s {detail}", flush=True)
    if status != "pass":
        raise ToolError(
            f"the unmutated suite does not pass ({status}: {detail}); see "
            f"{os.path.relpath(OUT_DIR / 'logs' / 'baseline.log', ROOT)}: a red baseline kills every mutant."
        )
    timeout = args.timeout or 3 * base_seconds + 120

    pristine = scratch / "pristine"  # the baseline build, restored after each mutant
    for name in ("out", "cache"):
        shutil.copytree(base / name, pristine / name)
    for cache in (pristine / "cache").glob("*.json"):
        cache.write_text(cache.read_text().replace(str(base), str(pristine)))
    workers = [base] + [scratch / f"w{i}" for i in range(1, max(1, args.jobs))]
    for w in workers[1:]:
        clone_tree(base, w)
    todo: queue.Queue[Mutant] = queue.Queue()
    for m in selected:
        todo.put(m)
    results: dict[str, Result] = {}
    lock = threading.Lock()

    def work(tree: Path) -> None:
        while True:
            try:
                m = todo.get_nowait()
            except queue.Empty:
                return
            try:
                r = run_mutant(m, tree, settings, timeout, pristine)
            except Exception as exc:
                r = Result(m, "error", f"{type(exc).__name__}: {exc}")
            with lock:
                results[m.id] = r
                done = f"[{len(results)}/{len(selected)}]"
                print(f"{done} {m.id} {m.kind:<11} {result_text(r)} ({r.seconds:.0f}s)", flush=True)

    threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.5)
    except KeyboardInterrupt:
        while not todo.empty():
            todo.get_nowait()
        for pgid in list(RUNNING):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
        raise ToolError("interrupted; scratch copies removed, contracts/ untouched") from None

    explanations = load_explanations(DOC)
    ordered = [results[m.id] for m in selected]
    for r in ordered:
        if r.status == "survived" and r.mutant.id in explanations:
            r.status = "explained"
    killed = [r for r in ordered if r.status in ("killed", "timeout")]
    survived = [r for r in ordered if r.status in ("survived", "explained")]
    unexplained = [r for r in ordered if r.status == "survived"]
    broken = [r for r in ordered if r.status in ("compile-error", "error")]
    stale = sorted(r.mutant.id for r in killed if r.mutant.id in explanations)
    total = time.monotonic() - started
    mean = sum(r.seconds for r in ordered) / len(ordered)
    summary = [
        f"score: {len(killed)}/{len(ordered)} killed ({100.0 * len(killed) / len(ordered):.1f} %), "
        f"{len(survived)} survived ({len(survived) - len(unexplained)} explained, {len(unexplained)} not)"
        + (f", {len(broken)} broken (compile error / forge error)" if broken else ""),
        f"time: {total / 60:.1f} min total, baseline {base_seconds:.0f}s, mean {mean:.0f}s per mutant, "
        f"{args.jobs} job(s)",
        f"suite: {', '.join(str(t.relative_to(ROOT)) for t in tests)} ({len(test_files)} test files), "
        f"{settings.describe()}",
        "survivors: " + (", ".join(r.mutant.id for r in survived) or "none"),
    ]
    if stale:
        summary.append(f"note: explained in docs/mutation.md but killed now: {', '.join(stale)}")
    text = write_report(
        ordered,
        summary,
        {
            "tests": [str(t.relative_to(ROOT)) for t in tests],
            "settings": settings.describe(),
            "baseline_seconds": round(base_seconds, 1),
            "total_seconds": round(total, 1),
            "jobs": args.jobs,
        },
    )
    print()
    print(text)
    print()
    for s in summary:
        print(s)
    for r in unexplained:
        print(
            f"UNEXPLAINED SURVIVOR {r.mutant.id}: {r.mutant.description} — kill it with a test, or explain "
            f"it in docs/mutation.md under '### {r.mutant.id}'"
        )
    for r in broken:
        print(f"BROKEN {r.mutant.id}: {r.detail} (log: {r.log})")
    print(f"report: {os.path.relpath(OUT_DIR, ROOT)}/report.md, report.json, logs/")
    return 1 if unexplained or broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
