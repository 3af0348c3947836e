#!/usr/bin/env bash
# scripts/demo.sh - a two-level PKI in a fresh temporary directory, end to end:
#
#   SoftHSM2 token "CA-Token"  ->  root CA key (ECDSA P-384) generated in the token
#   root CA (ec/root-ca, key in the HSM)
#     issuing CA (ec/issuing-ca, software key, signed by the root through the HSM)
#       TLS server credential for www.example.com (ec/tls-server)
#       CRL of the issuing CA
#   ... each checked with openssl (and pkcs11-tool for the token).
#
# Environment:
#   DEMO_SOFTWARE=1   no HSM: the root CA key is a software key file
#   KEEP=0            delete the working directory at the end (default: keep it)
#   HSM_PIN           user PIN for the demo token (default: a random one)
#
# The PIN reaches qpki only through $HSM_PIN (hsm.yaml names it with pin_env);
# it is never written to a file or passed to qpki as a flag. softhsm2-util
# itself has no other non-interactive way to initialise the throwaway token.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOFTWARE="${DEMO_SOFTWARE:-0}"
KEEP="${KEEP:-1}"

step_no=0
current="setup"
step() { step_no=$((step_no + 1)); current="$*"; printf '\n==> [%d] %s\n' "$step_no" "$*"; }
show() {                                        # echo a command (never with a secret in it)
    local arg out=""
    for arg in "$@"; do
        if [[ "$arg" == *[[:space:]]* ]]; then
            if [[ "$arg" == *=* ]]; then arg="${arg%%=*}=\"${arg#*=}\""; else arg="\"$arg\""; fi
        fi
        out+=" $arg"
    done
    printf '    $%s\n' "$out"
}
run() { show "$@"; "$@"; }                      # echo and run
die() { printf 'demo: ERROR: %s\n' "$*" >&2; exit 1; }

WORK=""
on_exit() {
    local rc=$?
    if ((rc != 0)); then
        printf '\ndemo FAILED at step %d (%s), exit %d\n' "$step_no" "$current" "$rc" >&2
        [[ -n "$WORK" ]] && printf 'working directory kept for inspection: %s\n' "$WORK" >&2
    elif [[ -n "$WORK" && "$KEEP" == 0 ]]; then
        rm -rf "$WORK"
        printf 'working directory removed (KEEP=0)\n'
    fi
}
trap on_exit EXIT

step "setup (scripts/setup.sh)"
bash "$ROOT/scripts/setup.sh"
export PATH="$ROOT/.venv/bin:$PATH"
command -v qpki >/dev/null || die "qpki console script not found in $ROOT/.venv/bin"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qpki-demo.XXXXXX")"
cd "$WORK"
echo "    working directory: $WORK"

HSM_ARGS=()
if [[ "$SOFTWARE" != 1 ]]; then
    LIB=/usr/lib/softhsm/libsofthsm2.so
    [[ -f "$LIB" ]] || die "$LIB not found (softhsm2 not installed?); DEMO_SOFTWARE=1 runs without an HSM"

    step "SoftHSM2 token 'CA-Token' in $WORK/tokens"
    mkdir -m 700 tokens
    cat >softhsm2.conf <<EOF
directories.tokendir = $WORK/tokens
objectstore.backend = file
log.level = ERROR
EOF
    export SOFTHSM2_CONF="$WORK/softhsm2.conf"
    export HSM_PIN="${HSM_PIN:-$(openssl rand -hex 12)}"
    SO_PIN="$(openssl rand -hex 12)"
    # shellcheck disable=SC2016  # a literal $HSM_PIN is what should be shown
    show softhsm2-util --init-token --free --label CA-Token --pin '$HSM_PIN' --so-pin '***'
    softhsm2-util --init-token --free --label CA-Token --pin "$HSM_PIN" --so-pin "$SO_PIN" >/dev/null
    unset SO_PIN
    softhsm2-util --show-slots | awk '/^Slot /{slot=$2} /Serial number:/{ser=$3}
        /Label:/ && $2=="CA-Token" {printf "    token CA-Token: slot %s, serial %s\n", slot, ser}'

    step "hsm.yaml (PIN only by reference: pin_env)"
    cat >hsm.yaml <<EOF
type: pkcs11
pkcs11:
  lib: $LIB
  token: CA-Token
  pin_env: HSM_PIN
EOF
    sed 's/^/    | /' hsm.yaml
    HSM_ARGS=(--hsm-config hsm.yaml --key-label root-ca-key)

    step "root CA key: ECDSA P-384 generated inside the token"
    run qpki key gen --algorithm ecdsa-p384 --hsm-config hsm.yaml --key-label root-ca-key

    step "token contents seen by pkcs11-tool (public objects, no login)"
    show pkcs11-tool --module "$LIB" --token-label CA-Token --list-objects
    objs="$(pkcs11-tool --module "$LIB" --token-label CA-Token --list-objects 2>&1)" \
        || die "pkcs11-tool --list-objects failed: $objs"
    printf '%s\n' "$objs" | sed 's/^/    /'
    grep -q 'label: *root-ca-key' <<<"$objs" || die "pkcs11-tool does not see a root-ca-key object in the token"
else
    echo "    DEMO_SOFTWARE=1: no HSM, the root CA key is a software key file"
fi

step "root CA (ec/root-ca)"
# A demo: the software CA keys are left unencrypted on purpose (--unencrypted-key, no warning).
run qpki ca init "${HSM_ARGS[@]}" --profile ec/root-ca --var cn="Demo Root CA" --ca-dir root --unencrypted-key

step "issuing CA (ec/issuing-ca), signed by the root"
run qpki ca init --profile ec/issuing-ca --var cn="Demo Issuing CA" --ca-dir issuing --parent root --unencrypted-key

step "TLS server credential for www.example.com"
show qpki credential enroll --ca-dir issuing --cred-dir creds --profile ec/tls-server \
    --var cn=www.example.com --var dns_names=www.example.com,example.com --json
qpki credential enroll --ca-dir issuing --cred-dir creds --profile ec/tls-server \
    --var cn=www.example.com --var dns_names=www.example.com,example.com --json >enroll.json
sed 's/^/    /' enroll.json
# The certificate: the .crt among the written paths ("paths" may be a list or a
# mapping; relative paths are taken from the cwd, then from the cred dir).
LEAF="$(python3 - enroll.json <<'EOF'
import json, os, sys
data = json.load(open(sys.argv[1]))
found = []
def walk(v):
    if isinstance(v, str):
        found.append(v)
    elif isinstance(v, dict):
        for x in v.values(): walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
walk(data.get("paths", []))
crts = [p for p in found if p.endswith((".crt", ".pem")) and os.path.basename(p) not in ("ca.crt", "chain.crt")]
for p in crts:
    for cand in (p, os.path.join("creds", p), os.path.join("creds", str(data.get("id", "")), p)):
        if os.path.isfile(cand):
            print(cand)
            sys.exit(0)
sys.exit("no certificate file among the enroll output's paths: %r" % (found,))
EOF
)" || die "could not find the issued certificate in the --json output"
echo "    credential id: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' enroll.json)"
echo "    certificate:   $LEAF"
openssl x509 -in "$LEAF" -noout -subject -issuer -enddate -ext subjectAltName 2>/dev/null | sed 's/^/    /'

step "CRL of the issuing CA"
run qpki crl gen --ca-dir issuing

step "independent checks with openssl"
run openssl verify -CAfile root/ca.crt root/ca.crt
run openssl verify -CAfile root/ca.crt issuing/ca.crt
run openssl verify -CAfile root/ca.crt -untrusted issuing/ca.crt "$LEAF"
show openssl crl -in issuing/crl/ca.crl -CAfile issuing/ca.crt -verify -noout
crl_out="$(openssl crl -in issuing/crl/ca.crl -CAfile issuing/ca.crt -verify -noout 2>&1)" \
    || die "openssl crl failed: $crl_out"
printf '%s\n' "$crl_out" | sed 's/^/    /'
# Read the verdict too: older openssl releases exit 0 on a bad CRL signature.
grep -qx 'verify OK' <<<"$crl_out" || die "CRL signature did not verify against issuing/ca.crt"
if [[ "$SOFTWARE" != 1 ]]; then
    # The root's private key must not exist as a file: it lives in the token.
    if find root -name '*.key' | grep -q .; then
        die "root CA has a key file although its key is in the HSM: $(find root -name '*.key')"
    fi
    echo "    root CA: no private key file on disk (key is in CA-Token)"
fi

step "done"
echo "    mode: $([[ "$SOFTWARE" == 1 ]] && echo software || echo 'SoftHSM2 (root CA key in token CA-Token)')"
echo "    working directory: $WORK"
if [[ "$SOFTWARE" != 1 ]]; then
    echo "    to keep using the root CA: export SOFTHSM2_CONF=$WORK/softhsm2.conf and set HSM_PIN"
    echo "    (the random PIN was not stored; run with HSM_PIN=... exported to choose it)"
fi
