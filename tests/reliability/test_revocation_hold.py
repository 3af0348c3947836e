"""Holds and removeFromCRL (issue 13, item 2): removeFromCRL is refused for
a full CRL (RFC 5280 §5.3.1, delta CRLs only); a certificate on hold is
released with ``qpki cert unhold`` (or ``released_serials`` of the qpki_crl
module): valid again in the index, recorded in the audit log, left out of
the next CRL, and ``openssl verify -crl_check`` accepts it again."""

from __future__ import annotations

import json

import pytest

from revocation_support import crl_text, issue, make_ca, openssl, reason_label


@pytest.fixture
def ca(tmp_path):
    return make_ca(tmp_path / "ca")


def _verify(ca, serial):
    """``openssl verify -crl_check`` of certificate ``serial`` with the CA's CRL."""
    return openssl("verify", "-crl_check", "-CAfile", ca / "ca.crt", "-CRLfile",
                   ca / "crl" / "ca.crl", ca / "certs" / f"{serial}.crt")


def test_remove_from_crl_is_refused(ca, qpki_cli, tree_snapshot, diff_snapshots):
    serial = issue(ca, 1)[0]
    before = tree_snapshot(ca)
    for spelling in ("removeFromCRL", "remove_from_crl"):
        result = qpki_cli("cert", "revoke", serial, "--ca-dir", ca, "--reason", spelling)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result
        assert "delta CRLs only" in result.stderr and "qpki cert unhold" in result.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []


def test_hold_then_release(ca, qpki_cli):
    held, other = issue(ca, 2)
    qpki_cli("cert", "revoke", held, "--ca-dir", ca, "--reason", "certificateHold", check=True)
    qpki_cli("cert", "revoke", other, "--ca-dir", ca, "--reason", "keyCompromise", check=True)
    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    assert reason_label(crl_text(ca / "crl" / "ca.crl")[1][int(held, 16)]) == "Certificate Hold"
    assert "certificate revoked" in _verify(ca, held).stdout + _verify(ca, held).stderr

    released = qpki_cli("cert", "unhold", held, "--ca-dir", ca, "--json")
    assert released.returncode == 0, released
    assert released.json()["status"] == "valid"
    line = next(line for line in (ca / "index.txt").read_text().splitlines()
                if int(line.split("\t")[3], 16) == int(held, 16))
    assert line.split("\t")[:3] == ["V", line.split("\t")[1], ""]
    record = json.loads((ca / "audit.log").read_text().splitlines()[-1])
    assert record["op"] == "cert.unhold" and int(record["serial"], 16) == int(held, 16)

    qpki_cli("crl", "gen", "--ca-dir", ca, check=True)
    listed = crl_text(ca / "crl" / "ca.crl")[1]
    assert int(held, 16) not in listed and int(other, 16) in listed
    assert _verify(ca, held).returncode == 0
    assert qpki_cli("audit", "verify", "--ca-dir", ca).returncode == 0
    assert qpki_cli("ca", "check", "--ca-dir", ca).returncode == 0


@pytest.mark.parametrize("reason", ["keyCompromise", "superseded", "unspecified"])
def test_only_a_hold_is_released(ca, qpki_cli, tree_snapshot, diff_snapshots, reason):
    serial, valid = issue(ca, 2)
    qpki_cli("cert", "revoke", serial, "--ca-dir", ca, "--reason", reason, check=True)
    before = tree_snapshot(ca)
    result = qpki_cli("cert", "unhold", serial, "--ca-dir", ca)
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result
    assert f"({reason})" in result.stderr and "only a certificate on hold" in result.stderr
    result = qpki_cli("cert", "unhold", valid, "--ca-dir", ca)
    assert result.returncode == 1 and "is not on hold" in result.stderr
    assert diff_snapshots(before, tree_snapshot(ca)) == []


def test_module_path_releases_and_is_idempotent(ca):
    """crl_ensure (the qpki_crl module's operation): released_serials takes a
    hold off, a second run changes nothing, a serial revoked for another
    reason fails, check mode predicts without writing."""
    from qpki.errors import InputError
    from qpki.ops.crl.state import crl_ensure

    held, compromised = issue(ca, 2)
    first = crl_ensure(str(ca), revocations=[{"serial": held, "reason": "CERTIFICATE_HOLD"},
                                             {"serial": compromised, "reason": "keyCompromise",
                                              "invalidity_date": "2026-02-03T04:05:06Z"}]).to_dict()
    assert first["changed"] and sorted(first["revoked"]) == sorted([held, compromised])
    predicted = crl_ensure(str(ca), releases=[held], check_mode=True).to_dict()
    assert predicted["changed"] and predicted["released"] == [held]
    assert predicted["diff"]["after"] == [f"{compromised} keyCompromise"]
    assert int(held, 16) in crl_text(ca / "crl" / "ca.crl")[1]  # check mode wrote nothing
    done = crl_ensure(str(ca), releases=[held]).to_dict()
    assert done["changed"] and done["released"] == [held] and done["revoked_count"] == 1
    entries = crl_text(ca / "crl" / "ca.crl")[1]
    assert list(entries) == [int(compromised, 16)]
    assert "Invalidity Date: \n                Feb  3 04:05:06 2026 GMT" in entries[
        int(compromised, 16)]
    assert crl_ensure(str(ca), releases=[held]).to_dict()["changed"] is False
    with pytest.raises(InputError, match="only a certificate on hold"):
        crl_ensure(str(ca), releases=[compromised])
    with pytest.raises(InputError, match="delta CRLs only"):
        crl_ensure(str(ca), revocations=[{"serial": held, "reason": "removeFromCRL"}])
