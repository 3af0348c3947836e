#!/usr/bin/env bash
# Build localhost/qpki-debian:bookworm without any container registry: debootstrap a minimal
# Debian 12 root file system with SoftHSM2, OpenSC and OpenSSL, and import it into podman.
# The Python that runs the modules (with the qpki core's dependencies) is the CI venv, which
# the molecule platforms mount read-only at the same paths.
#
#   tests/molecule/image/build.sh [--force]
set -euo pipefail
IMAGE="${QPKI_MOLECULE_IMAGE:-localhost/qpki-debian:bookworm}"
MIRROR="${QPKI_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
PACKAGES="bash,python3,softhsm2,opensc,openssl,ca-certificates"

if [[ "${1:-}" != --force ]] && podman image exists "$IMAGE"; then
    echo "[image] $IMAGE exists"
    exit 0
fi
ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/qpki-rootfs.XXXXXX")"
trap 'rm -rf "$ROOTFS"' EXIT
echo "[image] debootstrap bookworm ($PACKAGES) from $MIRROR"
if ! debootstrap --variant=minbase --include="$PACKAGES" bookworm "$ROOTFS" "$MIRROR" \
        > "$ROOTFS.log" 2>&1; then
    tail -20 "$ROOTFS.log" >&2
    rm -f "$ROOTFS.log"
    exit 1
fi
rm -f "$ROOTFS.log"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
tar -C "$ROOTFS" -c . | podman import --change 'CMD ["bash"]' - "$IMAGE" >/dev/null
echo "[image] built $IMAGE"
