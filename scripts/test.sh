#!/usr/bin/env bash
# scripts/test.sh - the whole qpki.pki test suite; what CI runs (.ci/run).
#
#   bash scripts/test.sh                 # setup + every stage
#   bash scripts/test.sh -k crl -x       # extra arguments go to pytest
#   TEST_STAGES="pytest" bash scripts/test.sh
#
# Stages, in order (each one's status is in the summary at the end):
#   pytest    .venv/bin/python -m pytest tests/ (unit, HSM via SoftHSM2, CLI)
#   demo      scripts/demo.sh        - KEEP=0; the README's demo (SoftHSM2 root CA, issuing CA,
#             TLS credential, CRL; checked with openssl and pkcs11-tool)
#   ansible   tests/ansible/run.sh   - ansible-test sanity/units and the
#             playbooks against a local SoftHSM2 token
#   molecule  tests/molecule/run.sh  - molecule scenarios for the roles in
#             podman containers built with debootstrap
#
# A stage whose script is missing or not executable is a failure (every stage
# exists; chmod +x a new one). pytest's exit code 5 (nothing collected) is a
# failure. The skip rule holds for the whole run (QPKI_STRICT_SKIPS=1, read by
# tests/conftest.py and tests/ansible/run.sh): a skipped test is a failed test,
# unless its reason is "unsupported platform: ..." (one that cannot apply on
# Debian 12 amd64/arm64). The run stops a stage that would exceed the total
# budget QPKI_TEST_BUDGET (seconds, default 2280 = 38 min; CI allows 40).
#
# Environment:
#   TEST_STAGES        stages to run (default: "pytest demo ansible molecule")
#   PYTEST_WORKERS     pytest-xdist workers (default 2; 0 = no xdist)
#   PYTEST_TIMEOUT     per-test timeout in seconds (default 600)
#   QPKI_TEST_BUDGET   total time budget in seconds (default 2280)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2

START=$SECONDS
BUDGET="${QPKI_TEST_BUDGET:-2280}"
STAGES="${TEST_STAGES:-pytest demo ansible molecule}"
WORKERS="${PYTEST_WORKERS:-2}"
PER_TEST_TIMEOUT="${PYTEST_TIMEOUT:-600}"

declare -a SUMMARY=()
passed=0 failed=0
# The skip rule (tests/conftest.py): no skipped test counts as a pass here.
export QPKI_STRICT_SKIPS=1

banner() { printf '\n===== %s =====\n' "$*"; }
record() { # name status detail
    SUMMARY+=("$(printf '  %-9s %-4s %s' "$1" "$2" "$3")")
    case "$2" in
        PASS) passed=$((passed + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
}
remaining() { echo $((BUDGET - (SECONDS - START))); }
# Run "$@" under the remaining budget; 124 means it was cut off.
budgeted() {
    local left
    left="$(remaining)"
    if ((left <= 10)); then
        echo "time budget of ${BUDGET}s exhausted before this stage" >&2
        return 124
    fi
    timeout --kill-after=30 "$left" "$@"
}
finish() {
    banner "summary ($((SECONDS - START))s)"
    printf '%s\n' "${SUMMARY[@]}"
    # Plain closing line, machine-readable: counts of stages.
    printf 'stages: %d passed, %d failed\n' "$passed" "$failed"
    ((failed == 0))
    exit $?
}

# ---------------------------------------------------------------- setup
banner "setup"
t0=$SECONDS
if ! bash scripts/setup.sh; then
    record setup FAIL "scripts/setup.sh failed"
    finish
fi
echo "[setup] ok ($((SECONDS - t0))s)"
PY="$ROOT/.venv/bin/python"
export PATH="$ROOT/.venv/bin:$PATH"

# ---------------------------------------------------------------- stages
run_pytest() {
    banner "pytest"
    local t0=$SECONDS log rc args=()
    log="$(mktemp "${TMPDIR:-/tmp}/qpki-pytest.XXXXXX")"
    if [[ "$WORKERS" != 0 ]]; then
        args+=(-n "$WORKERS")
    fi
    args+=(--timeout="$PER_TEST_TIMEOUT" -p no:cacheprovider)
    # No path given: pytest uses testpaths = ["tests"] from pyproject.toml.
    budgeted "$PY" -m pytest "${args[@]}" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    local counts
    counts="$(grep -E '^(=+ )?[0-9a-z ,]*(passed|failed|error|errors|skipped|no tests ran)[0-9a-z ,]* in [0-9.]+s' "$log" \
              | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    rm -f "$log"
    case "$rc" in
        0) record pytest PASS "$counts ($((SECONDS - t0))s)" ;;
        5) record pytest FAIL "no tests collected (pytest exit 5)" ;;
        124 | 137) record pytest FAIL "stopped by the time budget after $((SECONDS - t0))s" ;;
        *) record pytest FAIL "${counts:-exit $rc} (exit $rc, $((SECONDS - t0))s)" ;;
    esac
}

# A stage run by its script; a missing or non-executable script fails the stage.
run_hook() { # name script description
    local name="$1" script="$2" what="$3" t0=$SECONDS rc
    banner "$name: $script"
    if [[ ! -e "$script" ]]; then
        echo "$script is missing ($what)" >&2
        record "$name" FAIL "$script missing"
        return
    fi
    if [[ ! -x "$script" ]]; then
        echo "$script exists but is not executable (chmod +x $script)" >&2
        record "$name" FAIL "$script not executable"
        return
    fi
    budgeted "./$script"
    rc=$?
    case "$rc" in
        0) record "$name" PASS "($((SECONDS - t0))s)" ;;
        124 | 137) record "$name" FAIL "stopped by the time budget after $((SECONDS - t0))s" ;;
        *) record "$name" FAIL "exit $rc ($((SECONDS - t0))s)" ;;
    esac
}

for stage in $STAGES; do
    case "$stage" in
        pytest) run_pytest "$@" ;;
        # ansible-test sanity + units on the collection, then playbooks/roles
        # run against a throwaway SoftHSM2 token.
        ansible) run_hook ansible tests/ansible/run.sh "ansible-test and playbook runs" ;;
        # molecule scenarios (podman driver; images built locally with
        # debootstrap, no container registry is reachable).
        molecule) run_hook molecule tests/molecule/run.sh "molecule scenarios for the roles" ;;
        demo) KEEP=0 run_hook demo scripts/demo.sh "end-to-end CLI demo" ;;
        *) echo "unknown stage '$stage' in TEST_STAGES" >&2; record "$stage" FAIL "unknown stage" ;;
    esac
done

finish
