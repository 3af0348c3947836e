"""DER element headers read and written by hand, for the few places that
only need to find or wrap an element (no ASN.1 library), and the PEM text
form of DER bytes."""

import base64


def content_bounds(der, offset=0):
    """(start, end) of the content octets of the DER element at ``offset``."""
    first = der[offset + 1]
    if first < 0x80:
        return offset + 2, offset + 2 + first
    count = first & 0x7F
    start = offset + 2 + count
    return start, start + int.from_bytes(der[offset + 2:start], "big")


def element(tag, content):
    """The DER element with ``tag`` (one byte) and ``content``."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def pem_armor(der, label):
    """RFC 7468 text encoding of ``der`` (what public_bytes(PEM) gives,
    without encoding the structure a second time)."""
    text = base64.b64encode(der).decode("ascii")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n"
            % (label, "\n".join(lines), label)).encode("ascii")
