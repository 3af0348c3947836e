#!/usr/bin/env bash
# tests/ansible/run.sh - the Ansible stage of scripts/test.sh.
#
# Builds an ansible_collections/qpki/pki tree from this checkout in a temp dir, then:
#   doc       ansible-doc renders the eight modules
#   check     check mode of playbooks/two_tier_pki.yml on a fresh target (no token, no HSM config)
#             predicts every task and writes nothing
#   run1      the two-tier playbook on a fresh SoftHSM2 token: changes, every certificate and
#             CRL verifies with openssl, the CA keys are in the token (pkcs11-tool)
#   run2      the same playbook again: changed=0 and not one file of the PKI changed (no signature)
#   extra     batch issuance / revocation / token keys (tests/ansible/extra.yml), twice
#   failures  wrong PIN, PQC profile in HSM mode, mismatching CA... fail with clear messages,
#             and no PIN appears in any -vvv output
#   badinput  bad-input catalogue through the eight modules (tests/ansible/bad_input.yml, ~150
#             cases): each fails with a one-line msg naming the problem, the CA, credential and
#             token files stay byte-identical, no PIN in the -vvv output
#   concurrency  4 hosts (forks 4) x 250 certificates from one CA (tests/ansible/concurrency.yml):
#             1000 distinct serials, index lines and certs/ files, all verified by openssl
#   ansiballz the two-tier playbook twice with the in-process fast path switched off
#             (QPKI_IN_PROCESS=0: every qpki module through AnsiballZ): run 1 verifies, run 2 changed=0
#             (the other steps run the modules in the worker process: local connection)
#   rotation  qpki_ca rotate_before + qpki_ca_info: a root rotated, both populations verified
#   crl       qpki_crl path/format/return_content on a software CA (tests/ansible/crl.yml): DER and
#             PEM read by openssl, return_content = the file, a string revoked_serials refused naming
#             the option, a file-style --diff; rerun without the probes changed=0, files identical
#   hybrid    playbooks/hybrid_pki.yml (catalyst: ECDSA in the HSM + ML-DSA in files) twice:
#             openssl verifies the classical chain, qpki cert verify the ML-DSA signatures too
#   build     ansible-galaxy collection build + install; a module runs from the installed tarball
#   lint      ansible-lint --profile production on the whole collection
#   sanity    ansible-test sanity, every test on the whole collection: any finding fails (see QPKI_SANITY)
#
# Environment:
#   QPKI_ANSIBLE_STEPS  steps to run (default: all of the above, in that order)
#   QPKI_SANITY         "venv" (default: ansible-test sanity --venv, installs its requirements from
#                       PyPI once), "local" (current environment), or "skip"
#   KEEP=1              keep the temp dir (its path is printed)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$PATH"
PY="$VENV/bin/python"
STEPS="${QPKI_ANSIBLE_STEPS:-doc check run1 run2 extra failures badinput concurrency ansiballz hybrid rotation crl build lint sanity}"
SANITY_MODE="${QPKI_SANITY:-venv}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/qpki-ansible.XXXXXX")"
cleanup() { if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

declare -a RESULTS=()
failed=0
note() { printf '[ansible] %s\n' "$*"; }
pass() { RESULTS+=("$(printf '  %-11s PASS %s' "$1" "$2")"); note "$1: PASS $2"; }
fail() { RESULTS+=("$(printf '  %-11s FAIL %s' "$1" "$2")"); note "$1: FAIL $2"; failed=$((failed + 1)); }
# The skip rule (scripts/test.sh, CI): under it a skipped step is a failed step.
skip() {
    local ci="${CI:-}" strict="${QPKI_STRICT_SKIPS:-}"
    if [[ "${ci,,}" =~ ^(1|true|yes|on)$ || "${strict,,}" =~ ^(1|true|yes|on)$ ]]; then
        fail "$1" "skipped ($2), and no step may be skipped under CI / QPKI_STRICT_SKIPS"
        return
    fi
    RESULTS+=("$(printf '  %-11s skip %s' "$1" "$2")"); note "$1: skip $2"
}

# ------------------------------------------------------------------ collection tree
COLL="$WORK/collections/ansible_collections/qpki/pki"
mkdir -p "$COLL"
(cd "$ROOT" && tar --exclude=./.venv --exclude=./.git --exclude='*/__pycache__' \
    --exclude=./.pytest_cache --exclude=./.hypothesis --exclude=./tests/output \
    --exclude='./*.egg-info' --exclude='./*.tar.gz' -cf - .) | (cd "$COLL" && tar -xf -)
# ansible-test and ansible-lint read git metadata when present; give them a clean repository
# (ansible-test's own output, tests/output, must stay out of it).
echo "tests/output/" >> "$COLL/.gitignore"
(cd "$COLL" && git init -q && git add -A >/dev/null 2>&1 && \
    git -c user.name=t -c user.email=t@t commit -qm tree >/dev/null 2>&1) || true

export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
export ANSIBLE_LOCAL_TEMP="$WORK/ansible-local"
export ANSIBLE_REMOTE_TEMP="$WORK/ansible-remote"
export ANSIBLE_RETRY_FILES_ENABLED=0
export ANSIBLE_PIPELINING=1
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0
export ANSIBLE_DEPRECATION_WARNINGS=0
export ANSIBLE_HOME="$WORK/ansible-home"
export QPKI_TEST_PYTHON="$PY"

# ------------------------------------------------------------------ secrets and paths
HSM_PIN="qpki-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
HSM_SO_PIN="so-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
WRONG_PIN="wrong-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export HSM_PIN HSM_SO_PIN WRONG_PIN

vars_file() { # $1 = base dir for the PKI
    cat <<EOF
qpki_pki_base: $1
qpki_softhsm_conf: $WORK/softhsm/softhsm2.conf
qpki_softhsm_token_dir: $WORK/softhsm/tokens
qpki_hsm_config: $WORK/softhsm/hsm.yaml
qpki_install_packages: true
qpki_root_cn: Test Root CA
qpki_issuing_cn: Test Issuing CA
qpki_tls_servers: [www.test.example, api.test.example]
EOF
}
vars_file "$WORK/pki" > "$WORK/vars.yml"
vars_file "$WORK/pki-hybrid" | grep -v '_cn:' > "$WORK/vars-hybrid.yml"
# check mode runs on a fresh target: its own token directory, SoftHSM2 and qpki configuration, none
# of which exists (the token role writes nothing in check mode)
vars_file "$WORK/pki-check" | sed "s|$WORK/softhsm/|$WORK/softhsm-check/|" > "$WORK/vars-check.yml"
vars_file "$WORK/pki-ansiballz" > "$WORK/vars-ansiballz.yml"
export SOFTHSM2_CONF="$WORK/softhsm/softhsm2.conf"

PLAYBOOK=(ansible-playbook -i "$COLL/tests/ansible/inventory.yml")
recap_sum() { # $1 = log, $2 = field (changed, failed...): sum over hosts in PLAY RECAP
    awk -v f="$2" '/PLAY RECAP/ {r=1; next} r && $0 ~ f"=" {
        for (i = 1; i <= NF; i++) if ($i ~ "^"f"=") { split($i, a, "="); s += a[2] } }
        END { print s + 0 }' "$1"
}
no_pin_in() { # $1 = log; fails when a PIN appears
    if grep -qF -e "$HSM_PIN" -e "$WRONG_PIN" -e "$HSM_SO_PIN" "$1"; then
        grep -nF -e "$HSM_PIN" -e "$WRONG_PIN" -e "$HSM_SO_PIN" "$1" | head -5 >&2
        return 1
    fi
}
snapshot() { # $1 = dir: sha256 of every file (the lock file excluded)
    (cd "$1" && find . -type f ! -name .lock -print0 | sort -z | xargs -0 sha256sum)
}
step_on() { [[ " $STEPS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ doc
if step_on doc; then
    t0=$SECONDS bad=""
    for m in qpki_ca qpki_cert qpki_crl qpki_credential qpki_hsm_key qpki_hsm_info qpki_cert_info qpki_ca_info; do
        out="$(ansible-doc "qpki.pki.$m" 2>&1)"
        if [[ $? -ne 0 || "$out" != *"EXAMPLES"* || "$out" != *"RETURN VALUES"* ]]; then
            bad+=" $m"; echo "$out" | tail -5 >&2
        fi
        ansible-doc -j "qpki.pki.$m" >/dev/null 2>&1 || bad+=" $m(json)"
    done
    for r in root_ca intermediate_ca ocsp_responder softhsm_token; do
        ansible-doc -t role "qpki.pki.$r" >/dev/null 2>&1 || bad+=" role:$r"
    done
    if [[ -z "$bad" ]]; then pass doc "8 modules, 4 roles ($((SECONDS - t0))s)"; else fail doc "did not render:$bad"; fi
fi

# ------------------------------------------------------------------ token
t0=$SECONDS
if "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/tests/ansible/token.yml" > "$WORK/token.log" 2>&1; then
    note "token ready ($((SECONDS - t0))s)"
else
    tail -30 "$WORK/token.log" >&2
    fail token "softhsm_token role failed"
fi

# ------------------------------------------------------------------ check mode
# The README playbook with --check on a fresh target: no token, no SoftHSM2 configuration and no
# hsm.yaml yet (check mode does not write them). Every task must predict instead of failing, and
# nothing may be written: no PKI file, no token directory, no configuration.
if step_on check; then
    t0=$SECONDS log="$WORK/check.log"
    "${PLAYBOOK[@]}" -v -e "@$WORK/vars-check.yml" --check --diff "$COLL/playbooks/two_tier_pki.yml" > "$log" 2>&1
    rc=$?
    written="$(find "$WORK/pki-check" "$WORK/softhsm-check" 2>/dev/null | wc -l)"
    changed="$(recap_sum "$log" changed)"
    predicted="$(grep -c 'does not exist yet; predicted' "$log")"
    if [[ $rc -eq 0 && "$written" -eq 0 && "$changed" -gt 0 && "$predicted" -gt 0 ]] && no_pin_in "$log"; then
        pass check "fresh target: changed=$changed predicted ($predicted before the HSM config exists), nothing written ($((SECONDS - t0))s)"
    else
        tail -40 "$log" >&2
        fail check "rc=$rc paths_written=$written changed=$changed predicted_without_config=$predicted"
    fi
fi

# ------------------------------------------------------------------ first run
verify_pki() { # every certificate and CRL of the PKI ($1, default $WORK/pki), with openssl; the keys with pkcs11-tool
    local pki="${1:-$WORK/pki}" bad=0 n=0 f
    openssl verify -CAfile "$pki/root/ca.crt" "$pki/root/ca.crt" >/dev/null || bad=1
    openssl verify -CAfile "$pki/root/ca.crt" "$pki/issuing/ca.crt" >/dev/null || bad=1
    for f in "$pki"/credentials/*/*.crt "$pki"/extra/*.crt; do
        [[ -e "$f" && "$(basename "$f")" != chain.crt ]] || continue
        n=$((n + 1))
        out="$(openssl verify -CAfile "$pki/root/ca.crt" -untrusted "$pki/issuing/ca.crt" "$f" 2>&1)" \
            || { echo "$out" >&2; bad=1; }
    done
    for f in "$pki"/credentials/*/chain.crt; do
        [[ -e "$f" ]] || continue
        openssl verify -CAfile "$pki/root/ca.crt" -untrusted "$f" "$f" >/dev/null 2>&1 || bad=1
    done
    openssl crl -in "$pki/root/crl/ca.crl" -CAfile "$pki/root/ca.crt" -noout 2>&1 | grep -q 'verify OK' || bad=1
    openssl crl -in "$pki/issuing/crl/ca.crl" -CAfile "$pki/issuing/chain.crt" -noout 2>&1 | grep -q 'verify OK' || bad=1
    objects="$(pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label CA-Token \
        --login --pin "$HSM_PIN" --list-objects --type privkey 2>/dev/null)"
    grep -q 'label: *root-ca-key' <<<"$objects" || { echo "root-ca-key not in token" >&2; bad=1; }
    grep -q 'label: *issuing-ca-key' <<<"$objects" || { echo "issuing-ca-key not in token" >&2; bad=1; }
    [[ ! -e "$pki/root/private/ca.ecdsa-p384.key" ]] || { echo "root key file exists" >&2; bad=1; }
    VERIFIED=$n
    return $bad
}

if step_on run1; then
    t0=$SECONDS log="$WORK/run1.log"
    "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars.yml" "$COLL/playbooks/two_tier_pki.yml" > "$log" 2>&1
    rc=$?
    changed="$(recap_sum "$log" changed)"
    in_process="$(grep -c "in the task's worker process" "$log")"  # the fast path was taken
    if [[ $rc -eq 0 && "$changed" -gt 0 && "$in_process" -gt 0 ]] && verify_pki && no_pin_in "$log"; then
        pass run1 "changed=$changed, root+issuing+$VERIFIED leaf certs and 2 CRLs verified by openssl, keys in token; $in_process qpki tasks in process ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|msg' "$log" | tail -20 >&2
        fail run1 "rc=$rc changed=$changed in_process=$in_process"
    fi
fi

# ------------------------------------------------------------------ second run
if step_on run2; then
    t0=$SECONDS log="$WORK/run2.log"
    snapshot "$WORK/pki" > "$WORK/before.sum"
    "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/playbooks/two_tier_pki.yml" > "$log" 2>&1
    rc=$?
    snapshot "$WORK/pki" > "$WORK/after.sum"
    changed="$(recap_sum "$log" changed)"
    if [[ $rc -eq 0 && "$changed" -eq 0 ]] && cmp -s "$WORK/before.sum" "$WORK/after.sum"; then
        pass run2 "changed=0, $(wc -l < "$WORK/after.sum") PKI files identical: nothing signed ($((SECONDS - t0))s)"
    else
        grep -E 'changed:|fatal' "$log" | head -20 >&2
        diff "$WORK/before.sum" "$WORK/after.sum" | head >&2
        fail run2 "rc=$rc changed=$changed"
    fi
fi

# ------------------------------------------------------------------ extra module features
if step_on extra; then
    t0=$SECONDS
    "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/tests/ansible/extra.yml" > "$WORK/extra1.log" 2>&1
    rc1=$?
    "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/tests/ansible/extra.yml" > "$WORK/extra2.log" 2>&1
    rc2=$?
    c1="$(recap_sum "$WORK/extra1.log" changed)" c2="$(recap_sum "$WORK/extra2.log" changed)"
    revoked_ok=0
    serial="$(openssl x509 -in "$WORK/pki/extra/d.example.net.crt" -noout -serial 2>/dev/null | cut -d= -f2)"
    openssl crl -in "$WORK/pki/issuing/crl/ca.crl" -noout -text 2>/dev/null | grep -q "Serial Number: $serial" \
        && revoked_ok=1
    if [[ $rc1 -eq 0 && $rc2 -eq 0 && $c1 -gt 0 && $c2 -eq 0 && $revoked_ok -eq 1 ]] && verify_pki; then
        pass extra "batch of 3 + csr_content + revocation in CRL + hsm_info + hsm_key absent; rerun changed=0 ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|msg|changed:' "$WORK/extra1.log" "$WORK/extra2.log" | tail -20 >&2
        fail extra "rc=$rc1/$rc2 changed=$c1/$c2 revoked_in_crl=$revoked_ok"
    fi
fi

# ------------------------------------------------------------------ failures
if step_on failures; then
    t0=$SECONDS log="$WORK/failures.log"
    "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars.yml" "$COLL/tests/ansible/failures.yml" > "$log" 2>&1
    rc=$?
    rescued="$(recap_sum "$log" rescued)"
    if [[ $rc -eq 0 && "$rescued" -eq 9 ]] && no_pin_in "$log" && no_pin_in "$WORK/token.log"; then
        pass failures "9 clear failures (wrong PIN x2, PQC in HSM x2, mismatching CA x2, delete, key type, revoked key); no PIN in -vvv output ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"' "$log" | tail -20 >&2
        fail failures "rc=$rc rescued=$rescued (expected 9)"
    fi
fi

# ------------------------------------------------------------------ bad input (issue 6, item 3)
# tests/ansible/bad_input.yml: a table of malformed and hostile inputs run through the six
# modules (-vvv) on a workspace made by bad_input_setup.py. Every case must fail with a one-line
# msg naming the problem; the workspace (CA and credential directories, inputs), the token and
# the HSM configuration must stay byte-identical (modes and file list included) and no PIN may
# appear in the output.
if step_on badinput; then
    t0=$SECONDS bad="$WORK/bad" log="$WORK/badinput.log"
    bad_state() { # the workspace, the token and the HSM configuration: names, types, modes, sha256
        (cd "$bad" && find . ! -name .lock -printf '%y %m %P\n' | sort)
        snapshot "$bad"
        # The token: its object list and every key object byte for byte. token.object is left out:
        # SoftHSM2 rewrites it on a failed login (CKF_USER_PIN_COUNT_LOW and a generation counter;
        # pkcs11-tool with a wrong PIN does the same), and the wrong-PIN cases are the point.
        pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so --token-label CA-Token --login \
            --pin "$HSM_PIN" --list-objects 2>&1
        (cd "$WORK/softhsm/tokens" && find . ! -name '*.lock' -printf '%y %m %P\n' | sort &&
            find . -type f -name '*.object' ! -name token.object -print0 | sort -z | xargs -0 sha256sum)
        sha256sum "$WORK/softhsm/hsm.yaml"
    }
    if "$PY" "$COLL/tests/ansible/bad_input_setup.py" "$bad" "$WORK/softhsm/hsm.yaml" \
            > "$WORK/badinput-setup.log" 2>&1; then
        bad_state > "$WORK/badinput-before.sum"
        # The whole table (modules in the worker process: local connection), then the cases marked
        # ansiballz: true once more through AnsiballZ, as on a remote host.
        "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars.yml" -e "qpki_bad=$bad" "$COLL/tests/ansible/bad_input.yml" \
            > "$log" 2>&1
        rc=$?
        QPKI_IN_PROCESS=0 "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars.yml" -e "qpki_bad=$bad" -e qpki_bad_subset=true \
            "$COLL/tests/ansible/bad_input.yml" > "$WORK/badinput-zip.log" 2>&1
        rc_zip=$?
        bad_state > "$WORK/badinput-after.sum"
        cases="$(grep -oE 'qpki-badinput-cases=[0-9]+' "$log" | tail -1 | cut -d= -f2)"
        zipped="$(grep -oE 'qpki-badinput-cases=[0-9]+' "$WORK/badinput-zip.log" | tail -1 | cut -d= -f2)"
        if [[ $rc -eq 0 && $rc_zip -eq 0 && "${cases:-0}" -ge 25 && "${zipped:-0}" -ge 10 ]] \
                && cmp -s "$WORK/badinput-before.sum" "$WORK/badinput-after.sum" \
                && no_pin_in "$log" && no_pin_in "$WORK/badinput-zip.log" && no_pin_in "$WORK/badinput-setup.log"; then
            pass badinput "$cases hostile inputs through the 8 modules ($zipped again through AnsiballZ): each failed with a one-line msg naming it; CA, credential and token files byte-identical; no PIN in -vvv output ($((SECONDS - t0))s)"
        else
            awk '/^TASK \[Every case/ {p = 1} /^TASK \[Report/ {p = 0} p && /^(failed: |    "msg": )/' \
                "$log" "$WORK/badinput-zip.log" | grep -v 'All assertions passed' | cut -c1-300 | head -60 >&2
            diff "$WORK/badinput-before.sum" "$WORK/badinput-after.sum" | head -20 >&2
            fail badinput "rc=$rc/$rc_zip cases=${cases:-?}/${zipped:-?} (see above)"
        fi
    else
        tail -20 "$WORK/badinput-setup.log" >&2
        fail badinput "bad_input_setup.py failed"
    fi
fi

# ------------------------------------------------------------------ concurrency (issue 6, item 1)
# tests/ansible/concurrency.yml: 4 hosts (forks 4) x 250 certificates from one CA directory, in
# batches of 25 delegated to the CA host. Then, independently of qpki: 1000 distinct serials,
# 1000 index.txt lines, 1000 files in certs/ (the same bytes as the hosts' files), all verified
# by openssl in one call; `qpki ca check` and `qpki audit verify` clean.
if step_on concurrency; then
    t0=$SECONDS base="$WORK/conc" log="$WORK/concurrency.log" ca="$WORK/conc/ca"
    mkdir -p "$base"
    ansible-playbook -f 4 -i "$COLL/tests/ansible/inventory-concurrency.yml" \
        -e "qpki_conc_base=$base" "$COLL/tests/ansible/concurrency.yml" > "$log" 2>&1
    rc=$? t_play=$((SECONDS - t0)) why=""
    n_index="$(wc -l < "$ca/index.txt" 2>/dev/null || echo 0)"
    n_index_serials="$(cut -f4 "$ca/index.txt" 2>/dev/null | sort -u | wc -l)"
    n_files="$(find "$ca/certs" -type f -name '*.crt' 2>/dev/null | wc -l)"
    # certs/<SERIAL>.crt names = index serials
    cmp -s <(cut -f4 "$ca/index.txt" 2>/dev/null | sort) \
        <(find "$ca/certs" -type f -name '*.crt' -printf '%f\n' 2>/dev/null | sed 's/\.crt$//' | sort) \
        || why+=" certs/-names!=index-serials"
    # the hosts' files are the CA's files, byte for byte
    cmp -s <(sha256sum "$base"/conc-*/*.crt 2>/dev/null | cut -d' ' -f1 | sort) \
        <(sha256sum "$ca"/certs/*.crt 2>/dev/null | cut -d' ' -f1 | sort) || why+=" host-files!=certs/"
    # serials read by openssl from the certificates themselves
    n_serials="$(cat "$ca"/certs/*.crt 2>/dev/null > "$base/all.pem"; openssl storeutl -noout -text -certs "$base/all.pem" 2>/dev/null \
        | awk '/Serial Number:/ { sub(/.*Serial Number: */, ""); if ($0 == "") { getline; gsub(/[ :]/, "") } print }' | sort -u | wc -l)"
    n_ok="$(openssl verify -CAfile "$ca/ca.crt" "$ca"/certs/*.crt 2>/dev/null | grep -c ': OK$')"
    qpki ca check --ca-dir "$ca" > "$WORK/conc-check.log" 2>&1 || why+=" ca-check"
    qpki audit verify --ca-dir "$ca" > "$WORK/conc-audit.log" 2>&1 || why+=" audit-verify"
    if [[ $rc -eq 0 && -z "$why" && $n_index -eq 1000 && $n_index_serials -eq 1000 && $n_files -eq 1000 \
            && $n_serials -eq 1000 && $n_ok -eq 1000 ]]; then
        pass concurrency "4 hosts x 250 certs (forks 4, 40 batches): 1000 serials, 1000 index lines, 1000 files, openssl verify OK x1000, ca check + audit clean (play ${t_play}s, $((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"' "$log" | tail -10 >&2
        cat "$WORK/conc-check.log" "$WORK/conc-audit.log" | tail -10 >&2
        fail concurrency "rc=$rc index=$n_index/$n_index_serials files=$n_files serials=$n_serials verified=$n_ok$why"
    fi
fi

# ------------------------------------------------------------------ AnsiballZ path
# The steps above run the qpki modules inside the task's worker process (local connection: see
# plugins/plugin_utils/in_process.py). This one switches that off, so every qpki module goes
# through AnsiballZ and the PIN-by-file action plugin as on a remote host: the two-tier playbook
# on its own PKI directory, twice (-vvv), must verify, then report changed=0 with identical files.
if step_on ansiballz; then
    t0=$SECONDS pki="$WORK/pki-ansiballz"
    QPKI_IN_PROCESS=0 "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars-ansiballz.yml" "$COLL/playbooks/two_tier_pki.yml" \
        > "$WORK/ansiballz1.log" 2>&1
    rc1=$?
    snapshot "$pki" > "$WORK/ansiballz-before.sum" 2>/dev/null
    QPKI_IN_PROCESS=0 "${PLAYBOOK[@]}" -vvv -e "@$WORK/vars-ansiballz.yml" "$COLL/playbooks/two_tier_pki.yml" \
        > "$WORK/ansiballz2.log" 2>&1
    rc2=$?
    snapshot "$pki" > "$WORK/ansiballz-after.sum" 2>/dev/null
    c1="$(recap_sum "$WORK/ansiballz1.log" changed)" c2="$(recap_sum "$WORK/ansiballz2.log" changed)"
    # AnsiballZ was used for the qpki modules, never the in-process path
    in_process="$(cat "$WORK/ansiballz1.log" "$WORK/ansiballz2.log" | grep -c "in the task's worker process")"
    zipped="$(grep -cE "Using module file .*/plugins/modules/qpki_" "$WORK/ansiballz1.log")"
    if [[ $rc1 -eq 0 && $rc2 -eq 0 && $c1 -gt 0 && $c2 -eq 0 && $in_process -eq 0 && $zipped -gt 0 ]] \
            && verify_pki "$pki" && cmp -s "$WORK/ansiballz-before.sum" "$WORK/ansiballz-after.sum" \
            && no_pin_in "$WORK/ansiballz1.log" && no_pin_in "$WORK/ansiballz2.log"; then
        pass ansiballz "QPKI_IN_PROCESS=0: $zipped qpki module runs through AnsiballZ; root+issuing+$VERIFIED leaf certs and 2 CRLs verified; rerun changed=0, files identical; no PIN in -vvv ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"' "$WORK/ansiballz1.log" "$WORK/ansiballz2.log" | tail -10 >&2
        diff "$WORK/ansiballz-before.sum" "$WORK/ansiballz-after.sum" | head >&2
        fail ansiballz "rc=$rc1/$rc2 changed=$c1/$c2 in_process=$in_process ansiballz_runs=$zipped"
    fi
fi

# ------------------------------------------------------------------ hybrid (catalyst)
if step_on hybrid; then
    t0=$SECONDS pki="$WORK/pki-hybrid"
    "${PLAYBOOK[@]}" -e "@$WORK/vars-hybrid.yml" "$COLL/playbooks/hybrid_pki.yml" > "$WORK/hybrid1.log" 2>&1
    rc1=$?
    snapshot "$pki" > "$WORK/hybrid-before.sum" 2>/dev/null
    "${PLAYBOOK[@]}" -e "@$WORK/vars-hybrid.yml" "$COLL/playbooks/hybrid_pki.yml" > "$WORK/hybrid2.log" 2>&1
    rc2=$?
    snapshot "$pki" > "$WORK/hybrid-after.sum" 2>/dev/null
    c1="$(recap_sum "$WORK/hybrid1.log" changed)" c2="$(recap_sum "$WORK/hybrid2.log" changed)"
    bad=0 n=0
    for f in "$pki"/issuing/ca.crt "$pki"/credentials/*/signature.*.crt; do
        [[ -e "$f" ]] || { bad=1; continue; }
        n=$((n + 1))
        openssl verify -CAfile "$pki/root/ca.crt" -untrusted "$pki/issuing/ca.crt" "$f" >/dev/null 2>&1 || bad=1
        qpki cert verify --ca "$pki/root/ca.crt" --untrusted "$pki/issuing/ca.crt" "$f" >/dev/null 2>&1 || bad=1
        openssl x509 -in "$f" -noout -text 2>/dev/null | grep -q '2.5.29.74' || bad=1  # altSignatureValue
    done
    if [[ $rc1 -eq 0 && $rc2 -eq 0 && $c1 -gt 0 && $c2 -eq 0 && $bad -eq 0 && $n -ge 3 ]] &&
        cmp -s "$WORK/hybrid-before.sum" "$WORK/hybrid-after.sum" && no_pin_in "$WORK/hybrid1.log"; then
        pass hybrid "catalyst chain ($n certs) verified by openssl and qpki (ML-DSA alt signatures); rerun changed=0 ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"' "$WORK/hybrid1.log" "$WORK/hybrid2.log" | tail -10 >&2
        fail hybrid "rc=$rc1/$rc2 changed=$c1/$c2 verify_failures=$bad certs=$n"
    fi
fi

# ------------------------------------------------------------------ CA key rollover
if step_on rotation; then
    t0=$SECONDS
    "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/tests/ansible/rotation.yml" > "$WORK/rotation1.log" 2>&1
    rc1=$?
    "${PLAYBOOK[@]}" -e "@$WORK/vars.yml" "$COLL/tests/ansible/rotation.yml" > "$WORK/rotation2.log" 2>&1
    rc2=$?
    c1="$(recap_sum "$WORK/rotation1.log" changed)" c2="$(recap_sum "$WORK/rotation2.log" changed)"
    meta="$WORK/pki/rotation/root/ca.meta.json"
    if [[ $rc1 -eq 0 && $rc2 -eq 0 && $c1 -ge 5 && $c2 -eq 0 ]] && grep -q '"active": "v2"' "$meta" &&
        qpki audit verify --ca-dir "$WORK/pki/rotation/root" >/dev/null 2>&1; then
        pass rotation "rotate_before rotated a 30-day root to v2 (cross-certificates verified by openssl both ways), qpki_ca_info read it; rerun changed=0 ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"' "$WORK/rotation1.log" "$WORK/rotation2.log" | tail -10 >&2
        fail rotation "rc=$rc1/$rc2 changed=$c1/$c2"
    fi
fi

# ------------------------------------------------------------------ qpki_crl publication
# tests/ansible/crl.yml once whole (--diff), then without its qpki_probe tasks (the ones that change
# or try things on purpose): changed=0 and every file of its PKI identical.
if step_on crl; then
    t0=$SECONDS pki="$WORK/pki/crl-module"
    "${PLAYBOOK[@]}" --diff -e "@$WORK/vars.yml" "$COLL/tests/ansible/crl.yml" > "$WORK/crl1.log" 2>&1
    rc1=$?
    snapshot "$pki" > "$WORK/crl-before.sum" 2>/dev/null
    "${PLAYBOOK[@]}" --skip-tags qpki_probe -e "@$WORK/vars.yml" "$COLL/tests/ansible/crl.yml" > "$WORK/crl2.log" 2>&1
    rc2=$?
    snapshot "$pki" > "$WORK/crl-after.sum" 2>/dev/null
    c1="$(recap_sum "$WORK/crl1.log" changed)" c2="$(recap_sum "$WORK/crl2.log" changed)"
    der_ok=0 diff_ok=0
    openssl crl -inform DER -in "$pki/pub/issuing.crl" -CAfile "$pki/ca/ca.crt" -noout 2>&1 | grep -q 'verify OK' && der_ok=1
    grep -q "^+++ after: $pki/pub/issuing.crl (revoked serials)" "$WORK/crl1.log" &&
        grep -qE '^\+[0-9A-F]+ superseded$' "$WORK/crl1.log" && diff_ok=1
    if [[ $rc1 -eq 0 && $rc2 -eq 0 && $c1 -gt 0 && $c2 -eq 0 && $der_ok -eq 1 && $diff_ok -eq 1 ]] &&
        cmp -s "$WORK/crl-before.sum" "$WORK/crl-after.sum"; then
        pass crl "DER and PEM CRLs at path verified by openssl, return_content = file, string revoked_serials refused, file diff; rerun changed=0 ($((SECONDS - t0))s)"
    else
        grep -E 'fatal|FAILED|"msg"|assertion' "$WORK/crl1.log" "$WORK/crl2.log" | tail -10 >&2
        diff "$WORK/crl-before.sum" "$WORK/crl-after.sum" | head >&2
        fail crl "rc=$rc1/$rc2 changed=$c1/$c2 der_verified=$der_ok diff_shown=$diff_ok"
    fi
fi

# ------------------------------------------------------------------ galaxy build + install
if step_on build; then
    t0=$SECONDS
    mkdir -p "$WORK/build" "$WORK/installed"
    if (cd "$COLL" && ansible-galaxy collection build --output-path "$WORK/build" >"$WORK/build.log" 2>&1) &&
        ANSIBLE_COLLECTIONS_PATH="$WORK/installed" ansible-galaxy collection install -p "$WORK/installed" "$WORK"/build/qpki-pki-*.tar.gz \
            >>"$WORK/build.log" 2>&1 &&
        ANSIBLE_COLLECTIONS_PATH="$WORK/installed" ansible localhost -e "ansible_python_interpreter=$PY" \
            -m qpki.pki.qpki_ca -a "ca_dir=$WORK/tarball-ca profile=ec/root-ca vars={'cn':'Tarball'}" \
            >>"$WORK/build.log" 2>&1 &&
        openssl verify -CAfile "$WORK/tarball-ca/ca.crt" "$WORK/tarball-ca/ca.crt" >/dev/null; then
        pass build "$(basename "$WORK"/build/*.tar.gz) builds, installs and runs ($((SECONDS - t0))s)"
    else
        tail -20 "$WORK/build.log" >&2
        fail build "see output above"
    fi
fi

# ------------------------------------------------------------------ ansible-lint
if step_on lint; then
    t0=$SECONDS
    # No path arguments: ansible-lint checks the whole collection (galaxy.yml, meta/, the
    # changelog, roles, playbooks, tests/ansible, molecule scenarios...).
    if (cd "$COLL" && ansible-lint --profile production --offline --nocolor > "$WORK/lint.log" 2>&1); then
        pass lint "ansible-lint --profile production: $(tail -1 "$WORK/lint.log") ($((SECONDS - t0))s)"
    else
        tail -40 "$WORK/lint.log" >&2
        fail lint "ansible-lint reported problems"
    fi
fi

# ------------------------------------------------------------------ ansible-test sanity
if step_on sanity; then
    t0=$SECONDS
    case "$SANITY_MODE" in
        skip) skip sanity "QPKI_SANITY=skip" ;;
        *)
            args=(--python 3.11 --color no)
            [[ "$SANITY_MODE" == venv ]] && args+=(--venv --requirements)
            # ansible-test bootstraps pip in its venvs with get-pip.py from ci-files.testing.ansible.com;
            # when that host is unreachable, cache a stand-in that uses ensurepip + the pip index.
            pip_version="$(grep -rhoE "pip='[0-9.]+'" "$("$PY" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal" \
                | head -1 | grep -oE '[0-9.]+' || echo 24.2)"
            get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
            if [[ ! -e "$get_pip" ]] && ! curl -fsS -m 10 -o /dev/null https://ci-files.testing.ansible.com/ 2>/dev/null; then
                mkdir -p "$(dirname "$get_pip")" && cp "$COLL/tests/ansible/sanity/get_pip_shim.py" "$get_pip"
                note "sanity: ci-files.testing.ansible.com unreachable; using $get_pip (ensurepip + pip index)"
            fi
            (cd "$COLL" && ansible-test sanity "${args[@]}" > "$WORK/sanity.log" 2>&1)
            rc=$?
            # Any finding, anywhere in the collection (front end, core, tests, bench), fails the step.
            grep -E '^ERROR: [a-z]' "$WORK/sanity.log" | grep -vE '^ERROR: Found' > "$WORK/sanity-findings.txt"
            n_findings="$(wc -l < "$WORK/sanity-findings.txt")"
            tests_run="$(grep -c '^Running sanity test' "$WORK/sanity.log")"
            if grep -qE 'FATAL: (Command|Download|Python)' "$WORK/sanity.log" && [[ "$tests_run" -lt 5 ]]; then
                grep -E 'FATAL' "$WORK/sanity.log" | head -5 >&2
                fail sanity "ansible-test could not run (see above)"
            elif [[ $rc -eq 0 && "$n_findings" -eq 0 ]]; then
                pass sanity "ansible-test sanity ${args[*]}: $tests_run tests, no findings ($((SECONDS - t0))s)"
            else
                head -60 "$WORK/sanity-findings.txt" >&2
                [[ "$n_findings" -gt 0 ]] || tail -20 "$WORK/sanity.log" >&2
                fail sanity "rc=$rc, $n_findings finding(s) (list: sanity-findings.txt in the work dir)"
            fi
            ;;
    esac
fi

printf '\n[ansible] summary\n'
printf '%s\n' "${RESULTS[@]}"
((failed == 0))
