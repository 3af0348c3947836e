#!/usr/bin/env bash
# tests/molecule/run.sh - the molecule stage of scripts/test.sh.
#
# Builds localhost/qpki-debian:bookworm with debootstrap (tests/molecule/image/build.sh; no
# registry is used), then runs `molecule test` for the scenarios (podman driver: destroy,
# create, prepare, converge, idempotence, verify, destroy).
#
# Environment:
#   QPKI_MOLECULE_SCENARIOS   scenarios to run (default: "root_ca intermediate_ca root_rotation
#                             ocsp_responder")
#   QPKI_MOLECULE_IMAGE       image name (default: localhost/qpki-debian:bookworm)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$ROOT/.venv/bin:$PATH"
SCENARIOS="${QPKI_MOLECULE_SCENARIOS:-root_ca intermediate_ca root_rotation ocsp_responder}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/qpki-molecule.XXXXXX")"
trap 'if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi' EXIT

command -v podman >/dev/null || { echo "[molecule] podman is not installed" >&2; exit 1; }
"$ROOT/tests/molecule/image/build.sh" || { echo "[molecule] image build failed" >&2; exit 1; }

# The collection, as ansible_collections/qpki/pki (roles are called qpki.pki.<role>).
COLL="$WORK/collections/ansible_collections/qpki/pki"
mkdir -p "$COLL"
(cd "$ROOT" && tar --exclude=./.venv --exclude=./.git --exclude='*/__pycache__' \
    --exclude=./tests/output --exclude='./*.egg-info' -cf - .) | (cd "$COLL" && tar -xf -)
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_LOCAL_TEMP="$WORK/ansible-local"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 MOLECULE_NO_LOG=false

# The modules run with the CI venv's Python (the qpki core's dependencies), mounted read-only.
QPKI_VENV_ROOT="$ROOT/.venv"
QPKI_PYTHON_HOME="$("$QPKI_VENV_ROOT/bin/python" -c 'import sys; print(sys.base_prefix)')"
case "$QPKI_PYTHON_HOME" in
    /usr | /usr/*)  # a Debian python3: the image's own /usr/bin/python3.11 serves the venv
        QPKI_PYTHON_HOME="$WORK/no-python-home"; mkdir -p "$QPKI_PYTHON_HOME" ;;
esac
# Container limits must stay below this (possibly unprivileged) environment's own.
hard_nofile="$(ulimit -Hn)" hard_nproc="$(ulimit -Hu)"
[[ "$hard_nofile" == unlimited ]] && hard_nofile=1048576
[[ "$hard_nproc" == unlimited ]] && hard_nproc=1048576
QPKI_ULIMIT_NOFILE=$((hard_nofile < 20000 ? hard_nofile : 20000))
QPKI_ULIMIT_NPROC=$((hard_nproc < 32768 ? hard_nproc / 2 : 32768))
export QPKI_ULIMIT_NOFILE QPKI_ULIMIT_NPROC
QPKI_MOLECULE_PIN="m-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
QPKI_MOLECULE_SO_PIN="so-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# The venv's qpki console script (run by the ocsp_responder scenario's service) imports qpki
# from the source tree it was installed from in editable mode.
QPKI_SOURCE_ROOT="$ROOT"
export QPKI_VENV_ROOT QPKI_PYTHON_HOME QPKI_MOLECULE_PIN QPKI_MOLECULE_SO_PIN QPKI_SOURCE_ROOT

failed=0
declare -a RESULTS=()
for scenario in $SCENARIOS; do
    t0=$SECONDS
    log="$WORK/$scenario.log"
    if (cd "$COLL/tests/molecule" && molecule test -s "$scenario" > "$log" 2>&1); then
        RESULTS+=("$(printf '  %-16s PASS (%ss)' "$scenario" $((SECONDS - t0)))")
    else
        grep -E 'fatal:|FAILED|ERROR|CRITICAL|changed:' "$log" | tail -25 >&2
        RESULTS+=("$(printf '  %-16s FAIL (%ss)' "$scenario" $((SECONDS - t0)))")
        failed=$((failed + 1))
    fi
done
printf '[molecule] summary\n'
printf '%s\n' "${RESULTS[@]}"
((failed == 0))
