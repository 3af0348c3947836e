"""Invariant 11: the CA database and the files made from it (changes
committed but not yet written, a shared database's working directory, an
``index.txt`` changed outside qpki)."""

from __future__ import annotations

from ....store.ca_dir import CaDir
from ....store.cert_store import has_database, postgres_variable, write_store
from ....store.index import read_index
from ....store.shared_store import SharedCertStore
from ..database import complete_store, take_index_file
from .report import Report


def check_committed(ca: CaDir, report: Report) -> None:
    """Changes committed to the database whose files a crash left unwritten."""
    if not has_database(ca):
        return
    with write_store(ca) as store:
        box = store.outbox()
    if box:
        report.problem(f"{len(box.serials)} certificate change(s) and {len(box.records)} audit "
                       "record(s) committed to the CA database wait for their files (the next "
                       "operation on the CA writes them)",
                       lambda: report.notes.extend(complete_store(ca)))


def check_shared_directory(ca: CaDir, report: Report) -> None:
    """A working directory of a shared database, first: a process that died
    here before the files of its commit were complete is a problem; the
    changes made from other directories are copied (that is not one)."""
    if postgres_variable(ca) is None:
        return
    with write_store(ca) as store:
        if not isinstance(store, SharedCertStore):
            return
        if not store.interrupted():
            report.notes.extend(store.copy_changes())
            return
    report.problem("a process died in this working directory before the files of its "
                   "committed change were complete (the next operation on the CA writes "
                   "them)", lambda: report.notes.extend(complete_store(ca)))


def index_entries(ca: CaDir, report: Report) -> list:
    """The certificates as the next change to the CA will find them: an
    ``index.txt`` changed outside qpki is what it takes into the database
    (``ca_database.take_index_file``), done now with --repair."""
    if not has_database(ca):
        return read_index(ca.index)
    with write_store(ca) as store:
        if isinstance(store, SharedCertStore) and store.index_changed():
            report.problem(f"{ca.index} was changed outside qpki (on a shared CA database it "
                           "is only a copy)", lambda: report.notes.append(take_index_file(ca, store)))
            return store.entries()
        if store.index_changed():
            if not report.repair:
                entries = read_index(ca.index)
                report.notes.append(f"{ca.index} was changed outside qpki: the next change to "
                                    "the CA takes its lines into the CA database")
                return entries
            report.notes.append(take_index_file(ca, store))
        return store.entries()
