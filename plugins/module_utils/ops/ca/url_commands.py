"""``qpki ca urls``: recording the URLs a CA puts in what it issues
(``urls.CaUrls``) in its ca.meta.json."""

from __future__ import annotations

import os

from ...store.ca_dir import CaDir
from ...store.lock import ca_lock
from .results import CaUrlsSet
from .urls import CaUrls, requested_urls


def ca_set_urls(ca_dir: str | os.PathLike, urls: CaUrls, check_mode: bool = False
                ) -> CaUrlsSet:
    """Record ``urls`` as the CA's (an empty field removes that URL);
    ``changed`` false when they already are."""
    ca = CaDir(ca_dir).require()
    with ca_lock(ca.path):
        meta = ca.load_ca_meta()
        current = CaUrls.from_meta(meta.raw)
        if current == urls:
            return CaUrlsSet(changed=False, ca_dir=str(ca.path), urls=urls.to_meta())
        if not check_mode:
            data = dict(meta.raw)
            if urls:
                data["urls"] = urls.to_meta()
            else:
                data.pop("urls", None)
            ca.write_meta(data)
    return CaUrlsSet(changed=True, ca_dir=str(ca.path), urls=urls.to_meta(),
                     previous_urls=current.to_meta())


def ca_urls_ensure(ca_dir: str | os.PathLike, crl: str | None = None, ocsp: str | None = None,
                   ca_issuers: str | None = None, check_mode: bool = False,
                   delta_crl: str | None = None) -> CaUrlsSet:
    """The declarative form (modules): each URL given is recorded, an empty
    one removed, one not given (None) left as it is."""
    ca = CaDir(ca_dir).require()
    current = CaUrls.from_meta(ca.load_ca_meta().raw).to_meta()
    given = {"crl": crl, "ocsp": ocsp, "ca_issuers": ca_issuers, "delta_crl": delta_crl}
    merged = {name: current.get(name) if value is None else value for name, value in given.items()}
    return ca_set_urls(ca_dir, requested_urls(**merged), check_mode)
