#!/usr/bin/env bash
# scripts/mutation.sh - mutation testing (mutmut 3) of the core modules that
# sign, check and record. Run outside CI: it takes tens of minutes.
#
#   bash scripts/mutation.sh                 # every group below
#   bash scripts/mutation.sh csr crl         # some groups
#   KEEP=1 bash scripts/mutation.sh audit    # keep the work folder (mutmut show/browse there)
#   MUTANTS="qpki.ops.crl.commands.x_crl_gen__mutmut_1*" bash scripts/mutation.sh crl
#                                            # only those mutants (mutmut names, globs; the others
#                                            # count as "not checked"): re-check survivors
#
# Each group mutates a few modules and runs a focused test selection: mutmut
# first records which tests reach which function, then runs, for each mutant,
# only the tests that reach the mutated function. A mutant is "killed" when
# one of them fails, "survived" when all pass, "no tests" when none reaches it.
#
# Layout: mutmut derives a module's import name from its path, so each group
# runs in a work folder where the core is src/qpki (a copy of
# plugins/module_utils) beside a copy of tests/; mutants/src comes first on
# sys.path there, ahead of the editable install. QPKI_CLI_IN_PROCESS=1 makes
# the qpki_cli fixture call the CLI's main() in the test's process, where
# mutmut can see it (tests/conftest.py); a test that starts another Python
# process running qpki does not count here.
#
# Output: per group, the counts and every surviving mutant's name and diff,
# in mutation-results/<group>.txt (not committed). The survivors that remain
# and why each is harmless are listed in docs/DEVELOPMENT.md.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
QPKI_EXTRAS="test,mutation" bash scripts/setup.sh || exit 1
PY="$ROOT/.venv/bin/python"
MUTMUT="$ROOT/.venv/bin/mutmut"
OUT="$ROOT/mutation-results"
mkdir -p "$OUT"

# Requests of one family of each kind (test_cli_request_checks.py): enough to
# reach every branch of the checks, far cheaper than all 45 families per mutant.
R=tests/integration/test_cli_request_checks.py
REQUESTS="$R::test_every_algorithm_a_profile_accepts_is_in_the_table"
for family in ecdsa-p256 ed25519 rsa-2048 rsa-pss ml-dsa-65 slh-dsa-sha2-128f \
              composite-mldsa65-ecdsa-p256 composite-mldsa44-rsa2048-pss catalyst-p256-mldsa65; do
    REQUESTS+=" $R::test_tampered_and_wrong_requests_are_refused[$family]"
done
REQUESTS+=" $R::test_catalyst_requests_need_a_good_alternative_key[catalyst-p256-mldsa65]"
REQUESTS+=" $R::test_a_batch_with_one_bad_request_issues_nothing[ed25519-1]"
REQUESTS+=" $R::test_a_signature_algorithm_that_is_not_the_keys_is_refused"

# cert issue's names, output path and passphrase; the CA keys it makes (ids,
# HSM, rotation); and cert verify's options.
N=tests/integration/test_issuance_names.py
CSR_NAMES="$N::test_names_given_by_the_operator_replace_the_csr_names
           $N::test_csr_names_fill_only_the_places_the_profile_has"
CSR_MORE="tests/reliability/test_bad_input_catalogue.py::test_cli_bad_input
          tests/reliability/test_secrets.py::test_passphrase_never_appears
          tests/reliability/test_secrets.py::test_both_keys_of_a_catalyst_ca_are_encrypted
          tests/reliability/test_audit.py tests/integration/test_hybrid_cli.py
          tests/unit/test_hybrid_composite.py::test_composite_keys_stay_out_of_the_hsm
          tests/integration/test_cli_hsm.py::test_hsm_root_chain_and_crl
          tests/integration/test_ca_rotation.py tests/integration/test_cli_verify.py
          tests/integration/test_cli_qpki_legacy.py tests/integration/test_cli_interop.py"

# What audit verify compares the log with (the index, a shared database),
# audit start's first record, and the completion of an operation killed
# between its change and its audit record (in-process: the kill lands in a
# forked child, the recovery runs in the test's process).
I=tests/reliability/test_revocation_integrity.py
C=tests/reliability/test_crash.py
S=tests/integration/test_shared_database.py
AUDIT_STATE="$I::test_revocation_undone_by_editing_the_index
             $I::test_revocation_undone_by_deleting_line_and_file
             $I::test_reason_changed_in_the_index
             tests/integration/test_cli_qpki_ca_dir.py::test_crl_gen_signs_for_a_qpki_ca_dir_given_its_key
             $S::test_an_edited_index_is_refused_then_written_again
             $S::test_a_log_with_a_record_the_database_lacks_is_refused
             $C::test_killed_between_its_files_and_its_audit_record
             $C::test_killed_right_after_the_database_commit"

# The crash journal (the outbox a commit leaves for the files): the kill tests
# whose follow-up command runs in the test's process (the killed command runs
# in a forked child, which inherits the mutant).
CRASH="$C::test_killed_right_after_the_database_commit $C::test_killed_between_its_files_and_its_audit_record
       $C::test_sigkill_before_each_durable_step[issue] $C::test_sigkill_before_each_durable_step[revoke]"

# The issuance pipeline (issuance, batch_sign, issued): serials, issuer checks
# (CA flags, pathLen, a revoked parent), validity, AKI and CA URLs, catalyst
# extensions, the rows and audit records, nothing written before every CSR
# is valid; the time given; a token key's signatures put in place after the
# workers; `ca check --repair` recording a certificate file. In-process only
# (the pkcs11-spy tests cannot run in-process).
B=tests/integration/test_batch.py
W=tests/integration/test_batch_workers.py
ISSUANCE="$R::test_tampered_and_wrong_requests_are_refused[ecdsa-p256]
          $R::test_tampered_and_wrong_requests_are_refused[catalyst-p256-mldsa65]
          $R::test_catalyst_requests_need_a_good_alternative_key[catalyst-p256-mldsa65]
          $R::test_a_batch_with_one_bad_request_issues_nothing[ed25519-1]
          tests/reliability/test_serial_uniqueness.py tests/integration/test_batch_ops.py
          tests/integration/test_batch_fastpath.py tests/integration/test_validity_inclusive.py
          tests/integration/test_path_length_init.py tests/integration/test_ca_urls.py
          tests/reliability/test_parent_revocation.py tests/integration/test_store_records.py
          tests/reliability/test_audit.py::test_each_record_holds_what_the_certificate_or_crl_says
          tests/unit/test_hybrid_ops.py tests/integration/test_issuance_names.py
          tests/reliability/test_key_matches_cert.py
          $B::test_batch_of_20_mixed_ecdsa_and_ml_dsa $B::test_one_bad_csr_fails_the_batch_and_changes_nothing
          $B::test_usage_errors_and_single_form_unchanged
          $W::test_workers_issue_what_one_process_issues $W::test_first_bad_csr_in_input_order_stops_every_worker
          $W::test_failing_worker_changes_nothing $W::test_catalyst_ca_signs_both_signatures_in_the_workers
          $W::test_hsm_rsa_key_signs_pss_for_the_workers tests/integration/test_issuance_time.py
          tests/reliability/test_ca_check.py::test_issued_but_unrecorded_certificate
          tests/integration/test_issuer_checks.py tests/integration/test_issuer_signature_options.py"

# group -> "modules (under plugins/module_utils) | test files or node ids"
declare -A MUTATION_GROUPS=(
    [csr]="ops/cert/commands.py ops/keys/hybrid.py x509/csr.py |
           $REQUESTS tests/unit/test_fuzz_parsers.py tests/unit/test_hybrid_ops.py
           tests/integration/test_cli_crl_reasons.py $CSR_NAMES $CSR_MORE"
    [keyrules]="algorithms/classical.py algorithms/base.py algorithms/mldsa.py
                algorithms/slhdsa.py profiles/algorithm_rules.py |
                $REQUESTS tests/unit/test_key_rules.py tests/unit/test_profiles_custom.py
                tests/unit/test_profiles_builtin.py tests/unit/test_verify_signature.py
                tests/hsm/test_hsm_capabilities.py tests/hsm/test_hsm_signer.py
                tests/integration/test_cli_pqc.py::test_slh_dsa_root_and_leaf
                tests/unit/test_ops_state.py::test_cert_ensure_sees_a_new_slh_dsa_key_of_the_same_set"
    [index]="store/cert_db.py store/cert_store.py store/index_file.py store/serials.py |
             tests/unit/test_store_index.py tests/unit/test_store_index_openssl.py
             tests/unit/test_store_serials.py tests/integration/test_ca_database.py
             tests/reliability/test_serial_uniqueness.py tests/integration/test_cli_crl_reasons.py
             tests/integration/test_store_records.py tests/integration/test_batch_ops.py
             $CRASH"
    [crl]="x509/crl.py ops/crl/commands.py ops/crl/entries.py |
           tests/integration/test_cli_crl_reasons.py tests/unit/test_hybrid_ops.py
           tests/unit/test_catalyst_independent.py tests/unit/test_crl_build.py
           tests/reliability/test_revocation_integrity.py tests/reliability/test_revocation_hold.py
           tests/reliability/test_crl_fields.py tests/integration/test_ca_rotation.py
           tests/integration/test_crl_delta.py tests/integration/test_cli_crl_out.py
           tests/integration/test_crl_gen_paths.py"
    [audit]="store/audit.py ops/audit/trail.py |
             tests/unit/test_store_audit.py tests/reliability/test_audit.py
             tests/reliability/test_ca_check.py $AUDIT_STATE"
    [issuance]="ops/cert/issuance.py ops/cert/batch_sign.py ops/cert/issued.py |
                $ISSUANCE"
)
ORDER=(csr keyrules index crl audit issuance)
selected=("$@")
((${#selected[@]})) || selected=("${ORDER[@]}")

toml_list() { # words -> "a", "b"
    local first=1 word
    for word in "$@"; do
        ((first)) || printf ', '
        printf '"%s"' "$word"
        first=0
    done
}

run_group() { # name
    local name="$1" spec modules tests work module
    spec="${MUTATION_GROUPS[$name]:-}"
    if [[ -z "$spec" ]]; then
        echo "unknown group '$name' (known: ${ORDER[*]})" >&2
        return 2
    fi
    read -r -a modules <<<"$(tr '\n' ' ' <<<"${spec%%|*}")"
    read -r -a tests <<<"$(tr '\n' ' ' <<<"${spec#*|}")"
    work="$(mktemp -d "${TMPDIR:-/tmp}/qpki-mutation-$name.XXXXXX")"
    mkdir -p "$work/src"
    cp -r plugins/module_utils "$work/src/qpki"
    cp -r tests "$work/tests"
    find "$work" -name __pycache__ -prune -exec rm -rf {} +
    local only=()
    for module in "${modules[@]}"; do only+=("src/qpki/$module"); done
    cat >"$work/pyproject.toml" <<EOF
[tool.mutmut]
source_paths = ["src/qpki"]
only_mutate = [$(toml_list "${only[@]}")]
pytest_add_cli_args_test_selection = [$(toml_list "${tests[@]}")]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:timeout", "-q",
                       "-m", "not slow"]

[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "--strict-markers"
markers = ["hsm: SoftHSM2", "ansible: ansible", "slow: slow"]
EOF
    echo "== $name: ${modules[*]}"
    local t0=$SECONDS log="$OUT/$name.log" report="$OUT/$name.txt"
    # No PYTHONPATH to mutants/src: set before mutmut creates it, Python would
    # cache that entry as empty and import the original qpki instead.
    local names=()
    read -r -a names <<<"${MUTANTS:-}"
    (cd "$work" && QPKI_CLI_IN_PROCESS=1 "$MUTMUT" run --max-children "${MAX_CHILDREN:-2}" "${names[@]}") \
        >"$log" 2>&1
    local rc=$?
    {
        echo "group $name: ${modules[*]}"
        echo "tests: ${tests[*]}"
        (cd "$work" && "$MUTMUT" results --all true) 2>/dev/null \
            | sed 's/.*: //' | sort | uniq -c | sed 's/^/  /'
        echo "seconds: $((SECONDS - t0)), mutmut exit $rc"
        echo
        (cd "$work" && "$MUTMUT" results) 2>/dev/null | sed -n 's/^ *\(.*\): survived$/\1/p' \
            | while read -r mutant; do
                echo "---- $mutant"
                (cd "$work" && "$MUTMUT" show "$mutant" </dev/null) 2>/dev/null | sed -n '3,$p'
            done
    } >"$report"
    sed -n '1,/^$/p' "$report"
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $work"; else rm -rf "$work"; fi
    return "$rc"
}

status=0
for group in "${selected[@]}"; do
    run_group "$group" || status=1
done
echo "reports in $OUT/"
exit "$status"
