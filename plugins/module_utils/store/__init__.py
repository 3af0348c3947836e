"""On-disk state: CA directories, credential directories, the certificate
index, serial/CRL counters, atomic writes and the CA lock.

This layer stores bytes and metadata only; it never signs anything.

Modules:
    atomic          write_file, write_text, ensure_dir, remove_stale_temps
    lock            ca_lock
    ca_dir          CaDir
    index           IndexEntry, read_index, read_revoked, append_entry, write_index
    index_update    plan_change, revoked, released, mark_revoked (one entry changed)
    audit           audit.log: hash-chained records
    audit_pending   audit.pending: the records written ahead of a change
    dn_oneline      subject names in OpenSSL's one-line form
    serials         new_serial, fresh_serials, used_serials, record_serial, next_crl_number
    credential_dir  CredentialDir, make_credential_id, list_credentials
    names           safe_component, safe_relative_path
    metafile        JSON metadata helpers
"""
