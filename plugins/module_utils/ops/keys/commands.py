"""key gen, key list, csr gen: keys in files or in a token."""

from __future__ import annotations

import os
from typing import Any, Iterable

from ...dependencies import missing

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:
    x509 = serialization = missing()

from ...algorithms.registry import get_algorithm
from ...errors import InputError
from ...signer.keyfile import read_private_key
from ...store.private_key import write_private_key
from ...signer.software import SoftwareSigner
from ...store.atomic import write_file
from ...x509.csr import build_csr
from .results import AlgorithmList, KeyFiles, TokenKeyMade, TokenKeys


def key_gen(algorithm_name: str, out: str | os.PathLike, passphrase: bytes | None = None,
            force: bool = False) -> KeyFiles:
    """A new software key written to ``out`` (PKCS#8 PEM, mode 0600)."""
    algorithm = get_algorithm(algorithm_name)
    if os.path.exists(out) and not force:
        raise InputError("%s already exists (refusing to overwrite a key)" % out)
    key = algorithm.generate()
    write_private_key(out, key, passphrase)
    return KeyFiles(changed=True, algorithm=algorithm.name, paths=[str(out)])


def key_gen_hsm(hsm_config: str, algorithm_name: str, label: str,
                key_id: str | None = None) -> TokenKeyMade:
    from ...hsm.config import load_hsm_config
    from ...hsm.keys import generate_key
    from ...hsm.session import open_session

    algorithm = get_algorithm(algorithm_name)
    config = load_hsm_config(hsm_config)
    with open_session(config) as session:
        made_id = generate_key(session, algorithm, label, key_id)
    return TokenKeyMade(changed=True, algorithm=algorithm.name, label=label,
                        key_id=made_id if isinstance(made_id, str) else key_id,
                        token=config.token or config.token_serial or config.slot)


def key_list(hsm_config: str) -> TokenKeys:
    from ...hsm.config import load_hsm_config
    from ...hsm.keys import list_keys
    from ...hsm.session import open_session

    config = load_hsm_config(hsm_config)
    with open_session(config) as session:
        keys = list_keys(session)
    return TokenKeys(changed=False, keys=keys)


def _subject(common_name: str, organization: str | None = None,
             country: str | None = None) -> x509.Name:
    from cryptography.x509.oid import NameOID

    attributes = []
    if country:
        attributes.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _san_extension(dns_names: Iterable[str] = (), ip_addresses: Iterable[str] = (),
                   emails: Iterable[str] = ()) -> list[x509.Extension]:
    import ipaddress

    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns_names]
    try:
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    names += [x509.RFC822Name(e) for e in emails]
    if not names:
        return []
    return [x509.Extension(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, False,
                           x509.SubjectAlternativeName(names))]


# What a new key for a CSR is when nothing is asked (as step-cli and most
# TLS servers do): widely accepted, small and fast.
DEFAULT_CSR_ALGORITHM = "ecdsa-p256"


def algorithm_list() -> AlgorithmList:
    """Every algorithm of the registry by family: whether it signs, whether
    a PKCS#11 token may hold it (the registry's ``hsm_capable``)."""
    from ...algorithms.registry import algorithms_by_family

    groups: dict[str, list[dict[str, Any]]] = {}
    for family, names in algorithms_by_family().items():
        for name in names:
            algorithm = get_algorithm(name)
            groups.setdefault(family, []).append(
                {"name": name, "signs": bool(algorithm.can_sign), "hsm": bool(algorithm.hsm_capable)})
    return AlgorithmList(families=groups, count=sum(len(v) for v in groups.values()))


def csr_gen(out: str | os.PathLike, common_name: str, key_path: str | None = None,
            algorithm: str | None = None, key_out: str | None = None,
            passphrase: bytes | None = None, dns_names: Iterable[str] = (),
            ip_addresses: Iterable[str] = (), emails: Iterable[str] = (),
            organization: str | None = None, country: str | None = None,
            alt_key_path: str | None = None, alt_algorithm: str | None = None,
            alt_key_out: str | None = None) -> KeyFiles:
    """A CSR for an existing key file, or for a new key of ``algorithm``.
    With an alternative (PQC) key (``alt_key_path``, or ``alt_algorithm``
    with ``alt_key_out``) it is a catalyst CSR proving possession of both."""
    paths: list[str] = []
    chosen = False
    if not key_path and not algorithm and key_out:
        algorithm, chosen = DEFAULT_CSR_ALGORITHM, True
    if key_path:
        key = read_private_key(key_path, passphrase)
        from ...algorithms.spki import algorithm_of

        algorithm = algorithm_of(key.public_key()).name
    else:
        if not algorithm or not key_out:
            raise InputError("a new CSR needs an existing key, or a file for a new key")
        if os.path.exists(key_out):
            raise InputError("%s already exists (refusing to overwrite a key)" % key_out)
        key = get_algorithm(algorithm).generate()
        write_private_key(key_out, key, passphrase)
        paths.append(str(key_out))
    alt_signer = _alt_signer(alt_key_path, alt_algorithm, alt_key_out, passphrase, paths)
    signer = SoftwareSigner(key, algorithm)
    csr = build_csr(signer, _subject(common_name, organization, country),
                    _san_extension(dns_names, ip_addresses, emails), alt_signer=alt_signer)
    write_file(out, csr.public_bytes(serialization.Encoding.PEM))
    paths.append(str(out))
    return KeyFiles(changed=True, algorithm=get_algorithm(algorithm).name, paths=paths,
                    note=f"no algorithm given: made an {DEFAULT_CSR_ALGORITHM} key" if chosen
                    else None,
                    alt_algorithm=alt_signer.algorithm.name if alt_signer is not None else None)


def _alt_signer(alt_key_path: str | None, alt_algorithm: str | None, alt_key_out: str | None,
                passphrase: bytes | None, paths: list[str]) -> SoftwareSigner | None:
    """The catalyst alternative signer of csr_gen, or None."""
    from ...algorithms.spki import algorithm_of

    if alt_key_path:
        alt_key = read_private_key(alt_key_path, passphrase)
        return SoftwareSigner(alt_key, algorithm_of(alt_key.public_key()).name)
    if not alt_algorithm and not alt_key_out:
        return None
    if not alt_algorithm or not alt_key_out:
        missing = "the path for the new alternative key" if alt_algorithm \
            else "the algorithm of the new alternative key"
        raise InputError(f"a catalyst CSR needs its alternative (PQC) key: an existing key file, "
                         f"or a new key's algorithm and path ({missing} is not given)")
    if os.path.exists(alt_key_out):
        raise InputError("%s already exists (refusing to overwrite a key)" % alt_key_out)
    alt_key = get_algorithm(alt_algorithm).generate()
    write_private_key(alt_key_out, alt_key, passphrase)
    paths.append(str(alt_key_out))
    return SoftwareSigner(alt_key, alt_algorithm)
