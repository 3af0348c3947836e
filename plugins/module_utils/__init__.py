"""qpki: the core of the qpki.pki collection, also installed as the ``qpki`` package."""
