#!/usr/bin/env bash
# Installs, only when missing, what the test suite needs on a fresh Debian machine:
# OpenSSL and NSS tools (independent PKCS#12 and certificate checks), curl, poppler's
# pdftotext, and the Python packages `cryptography`, `pkilint` and `aiosmtpd`.
# Idempotent: a second run changes nothing and takes a second.
set -euo pipefail

apt_packages=()
command -v openssl >/dev/null || apt_packages+=(openssl)
command -v pk12util >/dev/null || apt_packages+=(libnss3-tools)
command -v curl >/dev/null || apt_packages+=(curl)
command -v pdftotext >/dev/null || apt_packages+=(poppler-utils)
command -v python3 >/dev/null || apt_packages+=(python3 python3-pip)
# Packaging checks (tests/packaging.rs): units, the .deb, the Prometheus alert rules.
command -v systemd-analyze >/dev/null || apt_packages+=(systemd)
command -v dpkg-deb >/dev/null || apt_packages+=(dpkg)
command -v promtool >/dev/null || apt_packages+=(prometheus)
# The CA key in a PKCS#11 token (tests/pkcs11.rs): SoftHSM2, and OpenSC's pkcs11-tool to look
# at the key from another implementation.
command -v softhsm2-util >/dev/null || apt_packages+=(softhsm2)
command -v pkcs11-tool >/dev/null || apt_packages+=(opensc)
if ((${#apt_packages[@]})); then
  echo "installation des paquets Debian : ${apt_packages[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

if ! python3 - <<'PY' 2>/dev/null
import cryptography, pkilint, aiosmtpd
major = int(cryptography.__version__.split(".")[0])
assert major >= 42
PY
then
  echo "installation des paquets Python : cryptography pkilint aiosmtpd"
  python3 -m pip install --quiet --disable-pip-version-check \
    'cryptography>=42' 'pkilint>=0.13,<0.14' 'aiosmtpd>=1.4' 2>&1 | grep -v "Running pip as the 'root' user" || true
fi
# cargo-deb builds the Debian package; cargo-deny checks the supply chain. Pinned versions,
# installed once (cargo install --locked: the versions their authors tested).
cargo_tool() {
  local crate=$1 version=$2
  if ! "$crate" --version 2>/dev/null | grep -q " $version\b"; then
    echo "installation de $crate $version"
    cargo install --quiet --locked "$crate" --version "$version"
  fi
}
cargo_tool cargo-deb 3.8.0
cargo_tool cargo-deny 0.20.2

# Chromium, its NSS database tools, Node.js and playwright-core for the browser test.
"$(dirname "$0")/install-browser-deps.sh"

# pip may install console scripts where the shell has not looked yet.
hash -r
command -v lint_pkix_cert >/dev/null || {
  echo "lint_pkix_cert introuvable après installation de pkilint" >&2
  exit 1
}
