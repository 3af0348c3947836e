"""crl gen, crl info, crl verify."""

import datetime

from cryptography.hazmat.primitives import serialization

from ..errors import InputError
from ..store.atomic import write_file
from ..store.index import read_index
from ..store.lock import ca_lock
from ..store.serials import next_crl_number
from ..x509.certificate import utcnow
from ..x509.crl import build_crl
from ..x509.parse import load_certificates, load_crl
from .authority import Authority
from .describe import describe_crl


def revoked_entries(index_path):
    from .cert import reason_flag

    return [(entry.serial, entry.revoked_at, reason_flag(entry.reason or "unspecified"))
            for entry in read_index(index_path) if entry.status == "R"]


def crl_gen(ca_dir, days=7, passphrase=None, now=None):
    if not isinstance(days, int) or days < 1:
        raise InputError("--days must be a positive number of days (got %r)" % (days,))
    now = now or utcnow()
    with Authority(ca_dir, passphrase) as authority:
        with ca_lock(authority.dir.path):
            from .audit import audit_ready  # refuse before anything changes if audit.log is damaged
            audit_ready(authority.dir.path)
            number = next_crl_number(authority.dir.path)
            # A catalyst CA (alt_signer) signs its CRL with both keys.
            crl = build_crl(signer=authority.signer, issuer=authority.cert.subject,
                            issuer_key_id=authority.key_id, crl_number=number,
                            this_update=now, next_update=now + datetime.timedelta(days=days),
                            revoked=revoked_entries(authority.dir.index),
                            alt_signer=authority.alt_signer)
            pem_path = authority.dir.crl_path()
            der_path = authority.dir.crl_path(der=True)
            write_file(der_path, crl.public_bytes(serialization.Encoding.DER))
            write_file(pem_path, crl.public_bytes(serialization.Encoding.PEM))
            from .audit import log_crl  # hash-chained audit.log, see ops/audit.py
            log_crl(authority, crl, number)
    result = describe_crl(crl)
    result.update(changed=True, paths=[pem_path, der_path])
    return result


def crl_info(crl_data, where):
    return describe_crl(load_crl(crl_data, where))


def crl_verify(crl_data, ca_data, at=None, where="CRL", classical_only=False):
    from ..x509.verify import verify_crl

    crl = load_crl(crl_data, where)
    issuers = load_certificates(ca_data, "--ca")
    result = verify_crl(crl, issuers[0], at=at, check_time=at is not None,
                        classical_only=classical_only)
    return {"changed": False, "valid": result.valid, "reason": result.reason,
            "details": result.details}
