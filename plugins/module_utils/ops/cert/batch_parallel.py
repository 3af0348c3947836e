"""Batch issuance in worker processes (``cert issue --jobs``).

``sign_in_workers`` validates and signs the CSRs of a batch in forked
workers (``batch_workers``), each on its own slice, and hands back the
Issued certificates with their files written under temporary names (by
this process, as the workers' results arrive); the caller records them
exactly as a single-process batch would.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from ...errors import QpkiError
from ...signer.deferred import DeferredSigner, sign_deferred
from ...store.atomic import StagedFiles
from ...progress import ProgressCallback
from .batch_sign import SIGNING, Prepared, Signing, WorkItem, prepare
from .issued import Issued
from .batch_workers import run_in_workers

if TYPE_CHECKING:
    from ...signer.pkcs11 import Pkcs11Signer
    from ..ca.authority import Authority

PART = 32  # certificates per message from a worker to this process


def workers_can_sign(authority: Authority) -> bool:
    """True when worker processes can sign for ``authority``: every key can
    be used in a fork, or its only key is an HSM key (whose signatures the
    parent then makes, see ``sign_in_workers``)."""
    signers = authority.signers.values()
    return len(signers) == 1 or all(signer.fork_safe for signer in signers)


def sign_in_workers(authority: Authority, todo: Sequence[WorkItem], workers: int,
                    now: datetime.datetime | None = None,
                    before_signing: Callable[[], Any] | None = None,
                    progress: ProgressCallback | None = None
                    ) -> tuple[list[Issued], StagedFiles, StagedFiles]:
    """``prepare`` each ``todo`` item and sign it, in ``workers`` processes
    (see ``batch_workers``; ``before_signing()`` runs here once every item
    is valid). Returns ``(issued, ca_files, out_files)``: the Issued
    certificates in order, and two StagedFiles, the CA's copies and the
    output copies, written here under temporary names as the workers'
    results arrive, not yet in place.

    An HSM key stays here: the workers sign with a DeferredSigner, which
    records the digest of each certificate, and this process signs the
    digests in its session as they arrive and puts the signatures in the
    certificates. ``progress`` is told of the certificates received."""
    signing = Signing(authority, [item[0] for item in todo], now)
    serials = signing.new_serials(len(todo))
    # only a token key cannot be used in a fork
    held = None if authority.signer.fork_safe else cast("Pkcs11Signer", authority.signer)

    def defer_signatures() -> None:  # in each worker
        (key_id,) = authority.signers
        authority.signers[key_id] = DeferredSigner(cast("Pkcs11Signer", held))

    def sign(validated: list[Prepared], start: int) -> Iterator[list[tuple]]:  # in each worker
        numbered = [(item, serials[start + offset]) for offset, item in enumerate(validated)]
        for first in range(0, len(numbered), PART):
            if held is None:
                yield [(signing.sign(item, serial).parts(), item.out)
                       for item, serial in numbered[first:first + PART]]
            else:  # placeholder signature; everything else is final
                deferred = cast(DeferredSigner, authority.signer)
                yield [(signing.sign(item, serial).parts(), deferred.take(), item.out)
                       for item, serial in numbered[first:first + PART]]

    by_slice: list[list[Issued]] = [[] for dummy in range(workers)]
    ca_files, out_files = StagedFiles(), StagedFiles()
    received = [0]
    if progress:
        progress(SIGNING, 0, len(todo))

    def receive(number: int, part: list[tuple]) -> None:  # here, while the workers go on
        for entry in part:
            if held is None:
                parts, out = entry
                done = Issued.from_parts(parts)
            else:
                parts, pending, out = entry
                done = Issued.from_parts(parts)
                done.replace_signature(_deferred_signature(held, pending))
            ca_files.add(done.ca_path, done.pem)
            if out:
                out_files.add(out, done.pem)
            by_slice[number].append(done)
        received[0] += len(part)
        if progress:
            progress(SIGNING, received[0], len(todo))

    try:
        run_in_workers(todo, workers, lambda item: prepare(*item), sign, receive,
                       setup=defer_signatures if held else None, before_signing=before_signing)
    except BaseException:
        ca_files.discard()
        out_files.discard()
        raise
    return [done for issued in by_slice for done in issued], ca_files, out_files


def _deferred_signature(signer: Pkcs11Signer, pending: list) -> bytes:
    if len(pending) != 1:
        raise QpkiError("internal error: a batch worker asked for %d signatures of one "
                        "certificate" % len(pending))
    return sign_deferred(signer, *pending[0])
