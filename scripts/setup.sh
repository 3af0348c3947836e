#!/usr/bin/env bash
# scripts/setup.sh - idempotent bootstrap of a qpki.pki development/CI machine.
#
#   1. Debian packages (softhsm2, opensc, opensc-pkcs11 (pkcs11-spy for the
#      tests), openssl, podman, runc, debootstrap, fuse-overlayfs, and for the
#      HSM matrix opencryptoki, swtpm, tpm2-abrmd, tpm2-pkcs11): installed
#      only when missing; `apt-get update` runs once, and only when something
#      has to be installed.
#   2. A virtualenv in <repo>/.venv (created when missing or broken) with
#      `pip install -e '.[test]'`; skipped while .venv/.installed-stamp is newer
#      than pyproject.toml and records the same extras and Python.
#   3. Bytecode of the project's sources (`python -m compileall plugins`, which
#      skips the up-to-date .pyc), so that qpki does not compile every module
#      at each start even where PYTHONDONTWRITEBYTECODE=1 (Python still reads
#      existing .pyc files).
#
# Quiet on success (a couple of lines), loud on failure (the tail of the log).
# Safe to run concurrently (flock) and repeatedly (a no-op run takes well under
# a second).
#
# Environment:
#   PYTHON         interpreter used to create the venv (default: python3)
#   QPKI_EXTRAS    pip extras to install (default: test)
#   QPKI_SKIP_APT  set to 1 to skip the Debian package step entirely
#   QPKI_FORCE     set to 1 to reinstall the venv packages even if up to date
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
EXTRAS="${QPKI_EXTRAS:-test}"
VENV="$ROOT/.venv"
STAMP="$VENV/.installed-stamp"
# The HSM matrix (tests/tokens): openCryptoki's soft token, and tpm2-pkcs11 on a
# software TPM reached through tpm2-abrmd on a private D-Bus session bus. PostgreSQL:
# the tests start their own server (tests/postgres_server.py).
APT_PACKAGES=(softhsm2 opensc opensc-pkcs11 openssl podman runc debootstrap fuse-overlayfs
              opencryptoki swtpm swtpm-tools tpm2-abrmd libtss2-tcti-tabrmd0 tpm2-tools
              libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus
              postgresql)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Logs of the noisy steps; shown only when a step fails.
LOGDIR="$(mktemp -d "${TMPDIR:-/tmp}/qpki-setup.XXXXXX")"
trap 'rm -rf "$LOGDIR"' EXIT
show_log() { # $1 = log file
    printf '[setup] ---- last lines of %s ----\n' "$(basename "$1")" >&2
    tail -n 40 "$1" >&2 || true
    printf '[setup] ----\n' >&2
}

# One setup at a time per checkout (test.sh and demo.sh may run in parallel).
LOCK="${TMPDIR:-/tmp}/qpki-setup-$(printf '%s' "$ROOT" | sha256sum | cut -c1-16).lock"
exec 9>"$LOCK"
if command -v flock >/dev/null 2>&1; then
    flock 9 || die "could not lock $LOCK"
fi

# ---------------------------------------------------------------- Debian packages
if [[ "${QPKI_SKIP_APT:-0}" != 1 ]]; then
    missing=()
    for pkg in "${APT_PACKAGES[@]}"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        command -v apt-get >/dev/null 2>&1 \
            || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
        SUDO=()
        if [[ "$(id -u)" -ne 0 ]]; then
            command -v sudo >/dev/null 2>&1 \
                || die "missing packages (${missing[*]}): run as root or install sudo"
            SUDO=(sudo -n)
        fi
        export DEBIAN_FRONTEND=noninteractive
        log "installing Debian packages: ${missing[*]}"
        "${SUDO[@]}" apt-get update -qq >"$LOGDIR/apt-update.log" 2>&1 \
            || { show_log "$LOGDIR/apt-update.log"; die "apt-get update failed"; }
        for pkg in "${missing[@]}"; do
            apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -vq '(none)' \
                || die "Debian package '$pkg' not found by apt-cache (wrong distribution or sources?)"
        done
        "${SUDO[@]}" apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" \
            >"$LOGDIR/apt-install.log" 2>&1 \
            || { show_log "$LOGDIR/apt-install.log"; die "apt-get install ${missing[*]} failed"; }
        for pkg in "${missing[@]}"; do
            [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] \
                || die "package $pkg still not installed after apt-get install"
        done
    fi
    for tool in softhsm2-util pkcs11-tool openssl; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' not on PATH after package install"
    done
fi

# ---------------------------------------------------------------- virtualenv
command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=/path/to/python3.10+)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
    || die "$PYTHON is $("$PYTHON" -V 2>&1); qpki needs Python >= 3.10"

if [[ -e "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "existing .venv is broken (interpreter gone?); recreating it"
    rm -rf "$VENV"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating .venv with $("$PYTHON" -V 2>&1)"
    "$PYTHON" -m venv "$VENV" >"$LOGDIR/venv.log" 2>&1 \
        || { show_log "$LOGDIR/venv.log"; die "python -m venv failed (Debian system python needs the python3-venv package)"; }
fi

# ---------------------------------------------------------------- bytecode
# compileall rewrites only the .pyc that are missing or older than their source
# (about 0.07 s when none is), so it runs every time: no stamp to go stale when
# __pycache__ is cleaned or a file gets an older mtime. A stale .pyc is harmless
# anyway (Python compiles in memory what changed since), so a failure here (a
# syntax error in a file being edited) only warns.
compile_sources() {
    if ! "$VENV/bin/python" -m compileall -q plugins >"$LOGDIR/compileall.log" 2>&1; then
        show_log "$LOGDIR/compileall.log"
        log "WARNING: python -m compileall plugins failed; qpki will compile its sources at each start"
    fi
}

# What the stamp vouches for: the extras, the interpreter and pyproject.toml.
want_stamp="extras=$EXTRAS python=$("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])') pyproject=$(sha256sum pyproject.toml | cut -c1-16)"
if [[ "${QPKI_FORCE:-0}" != 1 && -f "$STAMP" && "$STAMP" -nt pyproject.toml \
      && "$(cat "$STAMP")" == "$want_stamp" ]]; then
    compile_sources
    exit 0   # up to date: stay silent
fi

log "installing qpki (editable) with extras [$EXTRAS] into .venv"
rm -f "$STAMP"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
"$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]" >"$LOGDIR/pip.log" 2>&1 \
    || { show_log "$LOGDIR/pip.log"; die "pip install -e '.[$EXTRAS]' failed"; }
"$VENV/bin/python" -m pip check >"$LOGDIR/pip-check.log" 2>&1 \
    || { show_log "$LOGDIR/pip-check.log"; die "pip check found broken requirements in .venv"; }
[[ -x "$VENV/bin/qpki" ]] || die "console script .venv/bin/qpki missing after install"
printf '%s\n' "$want_stamp" >"$STAMP"
compile_sources
log "done ($("$VENV/bin/python" -m pip list 2>/dev/null | awk 'NR>2' | wc -l) packages in .venv)"
