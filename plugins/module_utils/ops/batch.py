"""Batch issuance: many CSRs, one opening of the CA, one lock, one HSM login.

``cert_issue_batch`` is what ``qpki cert issue --csr-dir/--csr ... --out-dir``
runs. It works in three phases:

1. Validate every CSR before the CA is even opened: parse it, check its
   self-signature, its key type against the profile, a catalyst CSR's
   alternative key, and render the profile (subject and SANs from the CSR;
   the profile's static extensions are built once and shared). The first
   bad CSR stops the batch with a one-line error naming its file; nothing
   has been signed or written at that point.
2. Open the CA once (one HSM login), take its lock once, check the issuer
   once per profile, build the AuthorityKeyIdentifier once and draw every
   serial against one read of the index. Sign every certificate in memory
   (cryptography's Certificate is kept as it is: no DER round trip). A
   signing failure (token gone...) leaves the CA directory untouched as
   well.
3. Encode each certificate once (``Issued``: PEM bytes, CA path, fingerprint
   and the fields shared by the audit record and the result), record them
   all with one flush per kind of file (``issuance.record_many``: the
   certificate files, then the index lines in one atomic rewrite, then the
   serial file), append their audit records in one write (chain computed in
   memory, one time and one set of key references for the batch), and
   write the output copies from the same PEM bytes, after the CA has
   recorded them.

``issue_many`` is phase 2 + 3 for callers that already hold an opened
``Authority`` and its lock (``cert_state.cert_ensure`` can use it for the
module's batch form).
"""

import hashlib
import os

from ..dependencies import missing

try:
    from cryptography.hazmat.primitives import serialization
except ImportError:
    serialization = missing()

from ..errors import InputError
from ..profiles.loader import load_profile
from ..store.atomic import ensure_dir, write_files
from ..store.index import serial_hex
from ..store.lock import ca_lock
from ..store.metafile import utc_text
from ..store.serials import new_serial, used_serials
from ..x509.certificate import utcnow
from ..x509.keyid import authority_key_identifier
from . import audit
from .authority import Authority
from .cert import check_key_algorithm, csr_request, csr_sans
from .hybrid import check_alt_key, csr_alt_public_key
from .issuance import check_issuer, record_many, sign_new, validity_window

CSR_SUFFIXES = (".csr", ".pem", ".der", ".req")


class CsrInput:
    """One CSR of a batch: its bytes, the text naming it in errors (its
    file name), and optionally its own output path, profile and variables
    (defaults: the batch's)."""

    __slots__ = ("data", "where", "out", "profile", "values")

    def __init__(self, data, where="CSR", out=None, profile=None, values=None):
        self.data = data
        self.where = where
        self.out = out
        self.profile = profile
        self.values = values


class Prepared:
    """A validated CSR, ready to be signed."""

    __slots__ = ("profile", "rendered", "public_key", "alt_public_key", "where", "out")

    def __init__(self, profile, rendered, public_key, alt_public_key=None, where="CSR",
                 out=None):
        self.profile = profile
        self.rendered = rendered
        self.public_key = public_key
        self.alt_public_key = alt_public_key
        self.where = where
        self.out = out


def csr_files(csr_dir):
    """The CSR files of ``csr_dir`` (``*.csr``, ``*.pem``, ``*.der``,
    ``*.req``; hidden files skipped), sorted by name."""
    try:
        names = sorted(os.listdir(csr_dir))
    except OSError as exc:
        raise InputError("cannot read CSR directory %s: %s"
                         % (csr_dir, exc.strerror or exc)) from None
    paths = [os.path.join(csr_dir, name) for name in names
             if not name.startswith(".") and name.lower().endswith(CSR_SUFFIXES)
             and os.path.isfile(os.path.join(csr_dir, name))]
    if not paths:
        raise InputError("no CSR files (%s) in %s"
                         % (", ".join("*" + s for s in CSR_SUFFIXES), csr_dir))
    return paths


def read_csr(path):
    """The bytes of the CSR file ``path``; InputError naming it when unreadable."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise InputError("cannot read CSR %s: %s" % (path, exc.strerror or exc)) from None


def prepare(profile, csr_data, where="CSR", values=None, out=None):
    """Validate one CSR for ``profile`` (a Profile) and render it; InputError
    naming ``where`` when anything is wrong. Needs no CA."""
    csr, public_key = csr_request(csr_data, where)
    check_key_algorithm(profile, public_key, where)
    alt_public_key = check_alt_key(profile, csr_alt_public_key(csr, where), where)
    try:
        rendered = profile.render(values or {}, csr_subject=csr.subject,
                                  csr_sans=csr_sans(csr))
    except InputError as exc:  # a variable taken from this CSR breaks the profile
        raise type(exc)("%s: %s" % (where, exc)) from None
    return Prepared(profile, rendered, public_key, alt_public_key, where, out)


def prepare_all(items):
    """``prepare`` each ``(profile, data, where, values, out)`` of ``items``,
    in order; the first bad CSR raises its InputError (nothing is signed
    before every CSR has been validated)."""
    return [prepare(*item) for item in items]


class Issued:
    """A signed certificate of a batch and what is derived from it, each
    computed once: its PEM bytes (the CA's copy and the output copy), the
    path of the CA's copy and the fields shared by the audit record and the
    result (serial, subject, notAfter, SHA-256 fingerprint)."""

    __slots__ = ("cert", "pem", "ca_path", "fields")

    def __init__(self, cert, certs_dir):
        self.cert = cert
        self.pem = cert.public_bytes(serialization.Encoding.PEM)
        serial = serial_hex(cert.serial_number)
        self.ca_path = os.path.join(certs_dir, serial + ".crt")
        self.fields = {
            "serial": serial,
            "subject": cert.subject.rfc4514_string(),
            "not_after": utc_text(cert.not_valid_after_utc),
            "fingerprint": hashlib.sha256(
                cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper(),
        }

    def result(self, paths):
        """The entry of a single ``cert issue`` result (without changed)."""
        return {"serial": "%X" % self.cert.serial_number, "subject": self.fields["subject"],
                "not_after": self.fields["not_after"],
                "fingerprint_sha256": self.fields["fingerprint"], "paths": paths}


def issue_many(authority, prepared, now=None):
    """Sign and record one certificate per Prepared item; the caller holds
    the CA lock. Returns the certificates in the order given.

    Nothing is written until every certificate is signed; then they are
    recorded together (see the module docstring) and audited in one append.
    """
    return [issued.cert for issued in sign_and_record(authority, prepared, now)]


def sign_and_record(authority, prepared, now=None):
    """``issue_many`` returning ``Issued`` objects (the certificates with
    their PEM bytes, CA path and record fields)."""
    prepared = list(prepared)
    if not prepared:
        return []
    now = now or utcnow()
    checked = set()
    for item in prepared:
        if id(item.profile) not in checked:
            check_issuer(authority, item.profile)
            checked.add(id(item.profile))
    windows = {}  # one validity window per distinct validity
    for item in prepared:
        validity = item.rendered.validity
        if validity not in windows:
            windows[validity] = validity_window(authority, validity, now)
    # The AuthorityKeyIdentifier is the CA's, the same for every certificate.
    aki = authority_key_identifier(authority.key_id)
    used = used_serials(authority.dir)
    certs = []
    for item in prepared:
        serial = new_serial(used)
        used.add(serial)
        certs.append(sign_new(authority, item.profile, item.rendered, item.public_key, serial,
                              windows[item.rendered.validity], item.alt_public_key,
                              issuer_key_id=aki))
    certs_dir = str(authority.dir.certs_dir)
    issued = [Issued(cert, certs_dir) for cert in certs]
    record_many(authority.dir, certs, pems=[i.pem for i in issued],
                paths=[i.ca_path for i in issued])
    audit.log_issues(authority, [(item.profile, i.cert) for item, i in zip(prepared, issued)],
                     fields=[i.fields for i in issued])
    return issued


def _inputs(csrs):
    """CsrInput objects from paths, (where, data) pairs or CsrInput."""
    inputs = []
    for item in csrs:
        if isinstance(item, CsrInput):
            inputs.append(item)
        elif isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            inputs.append(CsrInput(read_csr(path), path))
        else:
            where, data = item
            inputs.append(CsrInput(data, where))
    return inputs


def _output_paths(inputs, out_dir):
    """Each input's output path (None: only the CA's copy), refusing two
    inputs that would write the same file."""
    paths, seen = [], {}
    for item in inputs:
        out = item.out
        if out is None and out_dir is not None:
            stem = os.path.splitext(os.path.basename(item.where))[0]
            if not stem or item.where == "CSR":
                raise InputError("%s: no file name to derive the output name from; "
                                 "give it an output path" % item.where)
            out = os.path.join(out_dir, stem + ".crt")
        if out is not None:
            key = os.path.abspath(out)
            if key in seen:
                raise InputError("%s and %s would both be written to %s"
                                 % (seen[key], item.where, out))
            if os.path.isdir(out):
                raise InputError("cannot write %s: it is a directory" % out)
            seen[key] = item.where
        paths.append(out)
    return paths


def cert_issue_batch(ca_dir, profile, csrs, out_dir=None, values=None, passphrase=None,
                     now=None):
    """Issue one certificate per CSR from ``ca_dir`` with one CA opening.

    ``profile``: name, YAML path or Profile (default for every CSR).
    ``csrs``: CSR file paths, ``(where, bytes)`` pairs or ``CsrInput``.
    ``out_dir``: where ``<csr file stem>.crt`` copies go (created if its
    parent exists); a ``CsrInput.out`` overrides it. ``values``: profile
    variables for every CSR (a ``CsrInput.values`` overrides them).

    Every CSR is validated before anything is signed; any error is an
    InputError naming the CSR, and the CA directory is left as it was.
    Returns ``{"changed", "count", "certificates": [...], "paths": [...]}``
    where each certificate entry has the fields of a single ``cert issue``
    result plus ``csr``, and ``paths`` lists every file written.
    """
    default = load_profile(profile) if isinstance(profile, str) else profile
    inputs = _inputs(csrs)
    if not inputs:
        raise InputError("no CSRs given")
    if out_dir is not None and os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError("--out-dir %s is not a directory" % out_dir)
    outs = _output_paths(inputs, out_dir)
    for out in outs:
        if out is not None:
            folder = os.path.dirname(os.path.abspath(out))
            if folder != os.path.abspath(out_dir or "") and not os.path.isdir(folder):
                raise InputError("cannot write %s: directory %s does not exist" % (out, folder))
    profiles = {}
    todo = []
    for item, out in zip(inputs, outs):
        item_profile = item.profile or default
        if isinstance(item_profile, str):
            item_profile = profiles.get(item_profile) or profiles.setdefault(
                item_profile, load_profile(item_profile))
        todo.append((item_profile, item.data, item.where,
                     item.values if item.values is not None else values, out))
    prepared = prepare_all(todo)
    if out_dir is not None:
        ensure_dir(out_dir)
    with Authority(ca_dir, passphrase) as authority:
        with ca_lock(authority.dir.path):
            issued = sign_and_record(authority, prepared, now)
        record_paths = [str(authority.dir.index), str(authority.dir.serial),
                        os.path.join(str(authority.dir.path), "audit.log")]
    # The output copies: the same PEM bytes as the CA's copies, written
    # after the CA has recorded the certificates (an output never exists
    # for a certificate the CA does not list).
    copies = [(item.out, done.pem) for item, done in zip(prepared, issued) if item.out]
    write_files(copies)
    entries = []
    for item, done in zip(prepared, issued):
        entry = done.result([done.ca_path] + ([item.out] if item.out else []))
        entry["csr"] = item.where
        entries.append(entry)
    paths = [done.ca_path for done in issued] + [out for out, dummy in copies] + record_paths
    return {"changed": True, "count": len(issued), "certificates": entries, "paths": paths}
