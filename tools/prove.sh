#!/usr/bin/env bash
# Symbolic proofs of LeverageGuard with halmos (`make prove`): every `check_*` in test/proofs/ must be
# PROVEN for all inputs. A counterexample, a solver timeout, a path that hit a loop bound, a check whose
# every path reverts, or no check at all is a failure: only a complete proof passes. docs/proofs.md lists
# the checks, their bounds and runtimes.
#
# Usage (from the repo root, with the Makefile's environment: .tools/bin on PATH and FOUNDRY_SOLC set):
#   tools/prove.sh                      # every check
#   tools/prove.sh --contract ClaimProofs
#   tools/prove.sh --match-test 'check_withdraw'
# Extra arguments go to halmos unchanged.
#
# halmos pins rich<14.1, which the project venv's eth-ape refuses, so it lives in its own venv
# (.tools/halmos, created here on first use). halmos runs `forge build` itself; the FOUNDRY_* variables
# below restrict that build to test/proofs (+ what it imports) and keep its artifacts apart from every other
# forge build of the repository, and --forge-build-out tells halmos where they are.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

HALMOS_VERSION=0.3.3
PYTHON=${PYTHON:-python3.11}
VENV=$ROOT/.tools/halmos
BUILD=.build/halmos
RESULTS=$BUILD/results.json

if ! "$VENV/bin/halmos" --version 2>/dev/null | grep -qx "halmos $HALMOS_VERSION"; then
    echo "prove: installing halmos $HALMOS_VERSION into .tools/halmos"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "halmos==$HALMOS_VERSION"
fi

export PATH="$ROOT/.tools/bin:$PATH"
export FOUNDRY_SOLC=${FOUNDRY_SOLC:-$ROOT/.tools/solcx/solc-v0.8.37}
command -v forge >/dev/null || { echo "prove: forge not found (run make bootstrap)" >&2; exit 2; }
[ -e "$FOUNDRY_SOLC" ] || { echo "prove: solc $FOUNDRY_SOLC not found (run make bootstrap)" >&2; exit 2; }
export FOUNDRY_PROFILE=prove
export FOUNDRY_TEST=test/proofs
export FOUNDRY_OUT=$BUILD/out
export FOUNDRY_CACHE_PATH=$BUILD/cache
mkdir -p "$BUILD"
rm -f "$RESULTS"

# --match-contract 'Proofs$': the proof contracts are named *Proofs; halmos loads every artifact in the build
#   folder, and this keeps a stale artifact of a deleted or renamed file from running.
# --loop 4: signer sets of at most 4 and batches of 1-2, so no loop of a proof needs more unrolling
#   (a path that still hits the bound fails below: it would be an incomplete proof).
# --solver-timeout-branching 2s: halmos's default (1 ms) leaves most branch conditions over 256-bit
#   arithmetic undecided, so it explores infeasible revert paths and drowns the assertion solver in them
#   (the withdraw proof did not finish in 12 min); deciding each branch keeps every proof to a few dozen paths.
# --solver-timeout-assertion 300s: each assertion query's budget; one that runs out is a TIMEOUT (a failure).
start=$(date +%s)
set +e
"$VENV/bin/halmos" \
    --root "$ROOT" \
    --forge-build-out "$FOUNDRY_OUT" \
    --function check_ \
    --match-contract 'Proofs$' \
    --loop 4 \
    --solver-timeout-branching 2s \
    --solver-timeout-assertion 300s \
    --json-output "$RESULTS" \
    "$@"
halmos_rc=$?
set -e
elapsed=$(($(date +%s) - start))

"$VENV/bin/python" - "$RESULTS" "$halmos_rc" "$elapsed" <<'EOF'
import json, sys
path, halmos_rc, elapsed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
names = {0: "PROVEN", 1: "COUNTEREXAMPLE", 2: "TIMEOUT", 3: "STUCK", 4: "ALL PATHS REVERT", 5: "EXCEPTION"}
try:
    with open(path) as f:
        results = json.load(f).get("test_results") or {}
except (OSError, ValueError):
    results = {}
failed = total = 0
print(f"\n{'result':<17} {'time':>8} {'paths':>6}  check")
for contract, tests in sorted(results.items()):
    for t in tests:
        total += 1
        status = names.get(t["exitcode"], f"exit {t['exitcode']}")
        if t["exitcode"] == 0 and (t.get("num_bounded_loops") or 0) > 0:
            status = "LOOP BOUND HIT"
        ok = status == "PROVEN"
        failed += not ok
        seconds = (t.get("time") or [0])[0]
        paths = (t.get("num_paths") or [0])[0]
        print(f"{status:<17} {seconds:>7.1f}s {paths:>6}  {contract.split(':')[-1]}.{t['name'].split('(')[0]}")
print(f"\nprove: {total - failed}/{total} checks proven in {elapsed}s (halmos exit {halmos_rc})")
if total == 0:
    print("prove: no check ran", file=sys.stderr)
sys.exit(1 if failed or total == 0 or halmos_rc != 0 else 0)
EOF
