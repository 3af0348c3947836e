"""Makes the CA directories of this folder with qpki 0.1.0 (the main branch
before issue 13): run with that version's ``qpki`` package first on
``sys.path``, from this folder. See README.md."""

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from reliability_support import make_csr  # noqa: E402

from qpki.ops.ca import ca_init  # noqa: E402
from qpki.ops.ca_state import ca_install, ca_request  # noqa: E402
from qpki.ops.cert import cert_issue, cert_revoke  # noqa: E402
from qpki.ops.cert_state import CertRequest, cert_ensure  # noqa: E402
from qpki.ops.crl import crl_gen  # noqa: E402

for name in ("root", "issuing", "installed", "installed-unused"):
    shutil.rmtree(name, ignore_errors=True)
ca_init("root", "ec/root-ca", {"cn": "Legacy Root"})
ca_init("issuing", "ec/issuing-ca", {"cn": "Legacy Issuing"}, parent_dir="root")
serials = [cert_issue("issuing", "ec/tls-server", make_csr(f"legacy{n}.example.com"))["serial"]
           for n in range(3)]
cert_revoke("issuing", serials[0], "keyCompromise")
cert_revoke("issuing", serials[1], "certificateHold")
crl_gen("issuing")
for name in ("installed", "installed-unused"):
    request = ca_request(name, "ec/issuing-ca", {"cn": f"Legacy {name}"}).to_dict()
    signed = cert_ensure("root", [CertRequest("ec/issuing-ca", request["csr"], None,
                                              {"cn": f"Legacy {name}"})])["results"][0]
    ca_install(name, signed["certificate"], signed["chain"])
cert_issue("installed", "ec/tls-server", make_csr("installed.example.com"))
