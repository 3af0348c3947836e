"""Batch issuance in worker processes (``cert issue --jobs``).

``sign_in_workers`` validates and signs the CSRs of a batch in forked
workers (``batch_workers``), each on its own slice, and hands back the
Issued certificates with their files written under temporary names; the
caller records them exactly as a single-process batch would.
"""

from ..dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ..errors import QpkiError
from ..signer.deferred import DeferredSigner, sign_deferred
from ..store.atomic import StagedFiles, staged_files
from ..x509.certificate import with_signature
from .batch_sign import Issued, Signing, prepare
from .batch_workers import run_in_workers


def workers_can_sign(authority):
    """True when worker processes can sign for ``authority``: every key can
    be used in a fork, or its only key is an HSM key (whose signatures the
    parent then makes, see ``sign_in_workers``)."""
    signers = authority.signers.values()
    return len(signers) == 1 or all(signer.fork_safe for signer in signers)


def sign_in_workers(authority, todo, workers, now=None, before_signing=None):
    """``prepare`` each ``todo`` item and sign it, in ``workers`` processes
    (see ``batch_workers``; ``before_signing()`` runs here once every item
    is valid). Returns ``(issued, ca_files, out_files)``: the Issued
    certificates in order, and two StagedFiles, the CA's copies and the
    output copies, written under temporary names and not yet in place.

    With software keys the workers write those files themselves. An HSM key
    stays here: the workers sign with a DeferredSigner, which records the
    digest of each certificate, and this process signs the digests in its
    session, puts the signatures in the certificates and writes the files."""
    signing = Signing(authority, [item[0] for item in todo], now)
    serials = signing.new_serials(len(todo))
    held = None if authority.signer.fork_safe else authority.signer

    def defer_signatures():  # in each worker
        (key_id,) = authority.signers
        authority.signers[key_id] = DeferredSigner(held)

    def sign(validated, start):
        numbered = [(item, serials[start + offset]) for offset, item in enumerate(validated)]
        if held is not None:
            return [(signing.sign_cert(item, serial).public_bytes(serialization.Encoding.DER),
                     authority.signer.take()) for item, serial in numbered]
        ca_files, out_files, parts = StagedFiles(), StagedFiles(), []
        try:
            for item, serial in numbered:
                issued = signing.sign(item, serial)
                ca_files.add(issued.ca_path, issued.pem)
                if item.out:
                    out_files.add(item.out, issued.pem)
                parts.append(issued.parts())
        except BaseException:
            ca_files.discard()
            out_files.discard()
            raise
        return parts, ca_files.pairs, out_files.pairs

    payloads = run_in_workers(todo, workers, lambda item: prepare(*item), sign,
                              setup=defer_signatures if held else None,
                              before_signing=before_signing,
                              abandon=None if held else _discard_staged)
    if held is None:
        issued = [Issued.from_parts(one) for parts, _ca, _out in payloads for one in parts]
        return (issued, StagedFiles(pairs=[p for _i, ca, _o in payloads for p in ca]),
                StagedFiles(pairs=[p for _i, _c, out in payloads for p in out]))
    issued = [Issued(_with_deferred_signature(held, der, pending), signing.certs_dir)
              for payload in payloads for der, pending in payload]
    ca_files = staged_files([(done.ca_path, done.pem) for done in issued])
    try:
        out_files = staged_files([(item[4], done.pem) for item, done in zip(todo, issued)
                                  if item[4]])
    except BaseException:
        ca_files.discard()
        raise
    return issued, ca_files, out_files


def _discard_staged(payload):
    """The files a worker wrote for a batch that failed elsewhere."""
    _parts, ca_pairs, out_pairs = payload
    StagedFiles(pairs=ca_pairs + out_pairs).discard()


def _with_deferred_signature(signer, der, pending):
    if len(pending) != 1:
        raise QpkiError("internal error: a batch worker asked for %d signatures of one "
                        "certificate" % len(pending))
    signature = sign_deferred(signer, *pending[0])
    return x509.load_der_x509_certificate(with_signature(der, signature))
