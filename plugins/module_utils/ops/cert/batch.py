"""Batch issuance: many CSRs, one opening of the CA, one lock, one HSM login.

``cert_issue_batch`` is what ``qpki cert issue --csr-dir/--csr ... --out-dir``
runs:

1. Every CSR is validated before anything is signed (``batch_sign.prepare``:
   parse, self-signature, key type, a catalyst CSR's alternative key,
   profile rendering with subject and SANs from the CSR). The first bad CSR
   stops the batch with a one-line error naming its file; nothing has been
   signed or written at that point.
2. The CA is opened once (one HSM login) and locked once; every certificate
   is signed in memory (``batch_sign.Signing``: issuer checks, validity,
   AuthorityKeyIdentifier and serials worked out once). A signing failure
   (token gone...) leaves the CA directory untouched as well.
3. They are recorded together (``batch_sign.record``: the CA's copies, the
   index lines in one atomic rewrite, the serial file, the audit records in
   one append), then the output copies are put in place from the same PEM
   bytes, after the CA has recorded them.

In one process, the CSRs are validated before the CA is opened. With
several worker processes (``jobs``; by default one per CPU once a batch is
large enough, ``batch_parallel``) the CA is opened first so that the
workers start with it; they validate and sign their slices, a worker signs
only once every slice is valid, and the guarantees above hold.
"""

from __future__ import annotations

import datetime
import functools
import gc
import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ...errors import InputError
from ...progress import ProgressCallback
from ...input_file import read_input
from ...profiles.loader import as_profile
from ...store.atomic import ensure_dir, write_files
from ...store.lock import ca_lock
from ..ca.authority import Authority
from .batch_parallel import sign_in_workers, workers_can_sign
from .batch_sign import RECORDING, Prepared, prepare_all, sign_and_record
from .issued import record_issued
from .results import BatchIssued
from .batch_workers import worker_count

if TYPE_CHECKING:
    from ...profiles.profile import Profile
    from ...store.atomic import StagedFiles
    from .batch_sign import WorkItem
    from .issued import Issued

F = TypeVar("F", bound=Callable[..., Any])

CSR_SUFFIXES = (".csr", ".pem", ".der", ".req")


class CsrInput:
    """One CSR of a batch: its bytes, the text naming it in errors (its
    file name), and optionally its own output path, profile and variables
    (defaults: the batch's)."""

    __slots__ = ("data", "where", "out", "profile", "values")

    def __init__(self, data: bytes, where: str = "CSR", out: str | None = None,
                 profile: Profile | str | None = None, values: dict | None = None) -> None:
        self.data = data
        self.where = where
        self.out = out
        self.profile = profile
        self.values = values


def csr_files(csr_dir: str) -> list[str]:
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


def read_csr(path: str) -> bytes:
    """The bytes of the CSR file ``path`` (size-capped); InputError naming it
    when unreadable or too large."""
    return read_input(path, "CSR")


def _inputs(csrs: Iterable[Any]) -> list[CsrInput]:
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


def _output_paths(inputs: list[CsrInput], out_dir: str | None) -> list[str | None]:
    """Each input's output path (None: only the CA's copy), refusing two
    inputs that would write the same file."""
    paths: list[str | None] = []
    seen: dict[str, str] = {}
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


def _cyclic_gc_paused(function: F) -> F:
    """Run ``function`` with the cyclic garbage collector paused. A batch
    keeps what it allocates for every CSR (requests, rendered profiles,
    certificates) until it returns: the collections these allocations set
    off would free nothing and only scan them again and again. Reference
    counting still frees everything else at once."""
    @functools.wraps(function)
    def paused(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()
    return cast(F, paused)


@_cyclic_gc_paused
def cert_issue_batch(ca_dir: str | os.PathLike, profile: Profile | str, csrs: Iterable[Any],
                     out_dir: str | None = None, values: dict | None = None,
                     passphrase: bytes | None = None, now: datetime.datetime | None = None,
                     jobs: int | None = None,
                     progress: ProgressCallback | None = None) -> BatchIssued:
    """Issue one certificate per CSR from ``ca_dir`` with one CA opening.

    ``profile``: name, YAML path or Profile (default for every CSR).
    ``csrs``: CSR file paths, ``(where, bytes)`` pairs or ``CsrInput``.
    ``out_dir``: where ``<csr file stem>.crt`` copies go (created if its
    parent exists); a ``CsrInput.out`` overrides it. ``values``: profile
    variables for every CSR (a ``CsrInput.values`` overrides them).
    ``jobs``: processes that validate and sign (``batch_workers``); None
    picks one per CPU for a large batch, 1 keeps everything in this one.

    Every CSR is validated before anything is signed; any error is an
    InputError naming the CSR, and the CA directory is left as it was.
    Returns a ``BatchIssued``: each certificate's ``IssuedEntry`` (the
    fields of a single ``cert issue`` result plus ``csr``) and, in
    ``paths``, every file written.
    ``progress``: told of the CSRs checked, the certificates signed and the
    recording (``progress.ProgressCallback``).
    """
    default = as_profile(profile)
    inputs = _inputs(csrs)
    if not inputs:
        raise InputError("no CSRs given")
    if out_dir is not None and os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError("output directory %s is not a directory" % out_dir)
    outs = _output_paths(inputs, out_dir)
    # An output derived from out_dir goes into out_dir itself (created later).
    given = [item.out for item in inputs if item.out is not None]
    if given:
        out_folder = os.path.abspath(out_dir or "")
        for out in given:
            folder = os.path.dirname(os.path.abspath(out))
            if folder != out_folder and not os.path.isdir(folder):
                raise InputError("cannot write %s: directory %s does not exist" % (out, folder))
    todo = _work_list(inputs, outs, default, values)
    workers, issued, out_files, record_paths = _sign_and_record(
        ca_dir, passphrase, todo, out_dir, worker_count(jobs, len(todo)), now, progress)
    # The output copies: the same PEM bytes as the CA's copies, put in place
    # after the CA has recorded the certificates (an output never exists
    # for a certificate the CA does not list).
    copies = [(item[4], done.pem) for item, done in zip(todo, issued, strict=False) if item[4]]
    if out_files is None:
        write_files(copies)
    else:
        out_files.commit()
    entries = [done.result([done.ca_path] + ([item[4]] if item[4] else []), item[2])
               for item, done in zip(todo, issued, strict=False)]
    paths = [done.ca_path for done in issued] + [out for out, dummy in copies] + record_paths
    return BatchIssued(True, len(issued), workers, entries, paths)


def _work_list(inputs: list[CsrInput], outs: list[str | None], default: Profile,
               values: dict | None) -> list[WorkItem]:
    """``(profile, data, where, values, out)`` for each input (what
    ``batch_sign.prepare`` takes), each profile loaded once."""
    profiles: dict = {}
    todo: list[WorkItem] = []
    for item, out in zip(inputs, outs, strict=False):
        item_profile = item.profile or default
        item_profile = as_profile(item_profile, profiles)
        todo.append((item_profile, item.data, item.where,
                     item.values if item.values is not None else values, out))
    return todo


def _sign_and_record(ca_dir: str | os.PathLike, passphrase: bytes | None,
                     todo: Sequence[WorkItem], out_dir: str | None, workers: int,
                     now: datetime.datetime | None, progress: ProgressCallback | None
                     ) -> tuple[int, list[Issued], StagedFiles | None, list[str]]:
    """Phases 1-3 but the output copies: ``(workers used, Issued list, the
    output copies staged by the workers or None, paths of the CA's files
    written)``."""
    def validate_all() -> list[Prepared]:
        validated = prepare_all(todo, progress)
        if out_dir is not None:
            ensure_dir(out_dir)
        return validated

    if workers == 1:
        prepared = validate_all()
    with Authority(ca_dir, passphrase) as authority:
        if workers > 1 and not workers_can_sign(authority):
            workers = 1
            prepared = validate_all()
        with ca_lock(authority.dir.path):
            if workers == 1:
                issued, out_files = sign_and_record(authority, prepared, now, progress), None
            else:
                issued, ca_files, out_files = sign_in_workers(
                    authority, todo, workers, now,
                    before_signing=lambda: out_dir is not None and ensure_dir(out_dir),
                    progress=progress)
                try:
                    if progress:
                        progress(RECORDING, 0, 1)
                    record_issued(authority, authority.store, [item[0] for item in todo], issued,
                                  ca_files)
                    if progress:
                        progress(RECORDING, 1, 1)
                except BaseException:
                    ca_files.discard()
                    out_files.discard()
                    raise
        record_paths = [str(authority.dir.index), str(authority.dir.serial),
                        os.path.join(str(authority.dir.path), "audit.log")]
    return workers, issued, out_files, record_paths
