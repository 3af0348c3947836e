"""CRL with 100,000 revoked entries (issue item 4).

The database of a software-key P-256 issuing CA is filled with 100,000
revoked entries (recorded through qpki's store in one transaction; only the
CRL is measured, so no certificate is issued for them). Then, each in its own
process: ``qpki crl gen`` (wall time and peak RSS from wait4) and
``qpki crl info`` on the result. openssl checks the CRL's signature and
``crl info --json`` its entry count (not timed).
"""

import datetime
import json
from pathlib import Path

from . import common


def fill_store(ca_dir, count):
    """``count`` revoked entries recorded in the CA's database (and so in
    its index.txt), as one transaction; no certificate file is made."""
    from qpki.revocation import RevocationReason
    from qpki.store.ca_dir import CaDir
    from qpki.store.cert_db import CertRow
    from qpki.store.cert_store import write_store
    from qpki.store.index import IndexEntry
    from qpki.store.lock import ca_lock
    from qpki.store.serials import new_serial

    reasons = (None, RevocationReason.key_compromise, RevocationReason.superseded,
               RevocationReason.cessation_of_operation, RevocationReason.affiliation_changed)

    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    rows = []
    for number in range(count):
        revoked = start + datetime.timedelta(seconds=317 * number)
        rows.append(CertRow(IndexEntry(
            "R", revoked + datetime.timedelta(days=365), revoked, reasons[number % 5],
            new_serial(), "/CN=revoked%06d.bench.example" % number)))
    ca = CaDir(ca_dir)
    with ca_lock(ca.path), write_store(ca) as store:
        store.record_issued(rows, [])


def run(work, count=100_000, reps=2, log=print):
    work = Path(work)
    root, issuing = work / "crl-root", work / "crl-issuing"
    common.qpki("ca", "init", "--profile", "ec/root-ca", "--var", "cn=Bench CRL Root",
                "--ca-dir", root)
    common.qpki("ca", "init", "--profile", "ec/issuing-ca", "--var", "cn=Bench CRL Issuing",
                "--ca-dir", issuing, "--parent", root)
    log("crl: recording %d revoked entries (not timed)" % count)
    fill_store(issuing, count)

    gen = []
    for dummy in range(reps):
        wall, peak, code, err = common.child_peak_rss(
            [common.QPKI, "crl", "gen", "--ca-dir", issuing])
        if code != 0:
            raise RuntimeError("qpki crl gen failed: %s" % err.strip())
        gen.append((wall, peak))
    gen_time = min(w for w, dummy in gen)
    gen_peak = max(p for dummy, p in gen)
    pem = issuing / "crl" / "ca.crl"
    info = []
    for dummy in range(3):
        wall, peak, code, err = common.child_peak_rss([common.QPKI, "crl", "info", pem])
        if code != 0:
            raise RuntimeError("qpki crl info failed: %s" % err.strip())
        info.append((wall, peak))
    info_time = min(w for w, dummy in info)
    described = json.loads(common.run([common.QPKI, "crl", "info", pem, "--json"],
                                      check=True).stdout)
    checked = common.run(["openssl", "crl", "-in", pem, "-noout", "-CAfile", issuing / "ca.crt"])
    ok = described["revoked_count"] == count and "verify OK" in checked.stdout + checked.stderr
    result = {"count": count, "gen_seconds": gen_time, "gen_peak_mib": gen_peak,
              "info_seconds": info_time, "info_peak_mib": max(p for dummy, p in info),
              "size_bytes": (issuing / "crl" / "ca.crl.der").stat().st_size, "verified": ok}
    log("  crl gen (%d entries): %.2f s (target <= 3 s), peak %.0f MiB (target <= 300); "
        "crl info: %.2f s (target <= 2 s); openssl verify + count: %s"
        % (count, gen_time, gen_peak, info_time, "ok" if ok else "FAILED"))
    return result
