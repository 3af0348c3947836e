"""``qpki ocsp serve``: the OCSP responder over HTTP (RFC 6960 appendix A),
and the CA's CRL files beside it.

The HTTP side is waitress, a pure-Python WSGI server maintained by the
Pylons project: no compiler or C library to deploy, a bounded pool of
worker threads, and limits on request size, header size and connections
that it enforces before our code sees a request. It is used on a
loopback or internal address behind whatever the operator exposes.

- ``POST /`` with an ``application/ocsp-request`` body, or ``GET /<base64
  of the DER request>`` (URL-encoded): the DER response,
  ``application/ocsp-response``;
- ``GET <crl prefix><name>``: a file of the CA's ``crl/`` directory
  (``ca.crl``, ``ca.crl.der``, ``v1/ca.crl``...), ``application/pkix-crl``;
- anything else: HTTP 400, 404, 405 or 413 with a one-line text body.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from typing import Any, Callable, Iterable
from urllib.parse import unquote

from ...errors import InputError
from .responder import MAX_REQUEST, OcspResponder, internal_error
from .results import OcspStopped
from .run_as import account_to_run_as, become

_CRL_NAME = re.compile(r"^(?:v[0-9]{1,6}/)?ca(?:-delta)?(?:\.[A-Za-z0-9-]+)?\.crl(?:\.der)?$")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApplication = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _reply(start_response: StartResponse, status: str, body: bytes,
           content_type: str = "text/plain; charset=utf-8") -> Iterable[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


def ocsp_application(responder: OcspResponder, crl_prefix: str | None = "/crl/") -> WsgiApplication:
    """The WSGI application answering OCSP requests (and CRL downloads)."""
    crl_dir = os.fspath(responder.ca.crl_dir)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "/")
        if method == "GET" and crl_prefix and path.startswith(crl_prefix):
            return _crl(start_response, crl_dir, path[len(crl_prefix):])
        if method == "POST":
            request = _posted(environ)
            if isinstance(request, tuple):
                return _reply(start_response, *request)
        elif method == "GET":
            try:
                request = base64.b64decode(unquote(path.lstrip("/")), validate=True)
            except (binascii.Error, ValueError):
                return _reply(start_response, "400 Bad Request", b"not a base64 OCSP request\n")
        else:
            return _reply(start_response, "405 Method Not Allowed", b"GET or POST only\n")
        try:
            der = responder.respond(request)
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the server
            sys.stderr.write(f"qpki ocsp: internal error: {type(exc).__name__}\n")
            der = internal_error()
        return _reply(start_response, "200 OK", der, "application/ocsp-response")

    return application


def _posted(environ: dict[str, Any]) -> bytes | tuple[str, bytes]:
    if environ.get("CONTENT_TYPE", "").split(";")[0].strip() != "application/ocsp-request":
        return "400 Bad Request", b"content type must be application/ocsp-request\n"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", b"bad content length\n"
    if length > MAX_REQUEST:
        return "413 Payload Too Large", b"OCSP requests are limited to 64 KiB\n"
    return environ["wsgi.input"].read(length)


def _crl(start_response: StartResponse, crl_dir: str, name: str) -> Iterable[bytes]:
    if not _CRL_NAME.match(name):
        return _reply(start_response, "404 Not Found", b"no such CRL\n")
    try:
        with open(os.path.join(crl_dir, name), "rb") as handle:
            data = handle.read()
    except OSError:
        return _reply(start_response, "404 Not Found", b"no such CRL\n")
    kind = "application/pkix-crl" if name.endswith(".der") else "application/x-pem-file"
    return _reply(start_response, "200 OK", data, kind)


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"listen address {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def ocsp_serve(ca_dir: str | os.PathLike, listen: str, responder_dir: str | None = None,
               passphrase: bytes | None = None, validity_minutes: int = 60,
               threads: int = 4, crl_prefix: str | None = "/crl/",
               run_as: str | None = None) -> OcspStopped:
    """Serve until stopped (SIGINT / SIGTERM). With ``run_as``, a server
    started by root opens the key, the CA's records and the socket, then
    runs as that user."""
    import datetime

    try:
        import waitress
    except ImportError:
        raise InputError("qpki ocsp serve needs the waitress library (pip install waitress)") \
            from None
    host, port = parse_listen(listen)
    account = account_to_run_as(run_as) if run_as is not None else None
    with OcspResponder(ca_dir, responder_dir, passphrase,
                       datetime.timedelta(minutes=validity_minutes)) as responder:
        server = waitress.create_server(
            ocsp_application(responder, crl_prefix), host=host, port=port, threads=threads,
            max_request_body_size=MAX_REQUEST, max_request_header_size=16 * 1024,
            connection_limit=64, channel_timeout=30, ident="")
        if account is not None:
            responder.prepare()
            become(account)
        sys.stderr.write(f"qpki ocsp: answering for {responder.cert.subject.rfc4514_string()} "
                         f"on http://{host}:{port}/\n")
        sys.stderr.flush()
        server.run()
    return OcspStopped(changed=False, stopped=True)
