#!/usr/bin/env bash
# Installs, only when missing, what the browser test (tests/browser.rs) needs on a fresh Debian
# machine: Debian's Chromium and its translations (never a browser build downloaded by a test
# tool), the NSS tools (certutil, pk12util: the browser's certificate database), Node.js and
# npm, and the node modules of tests/e2e (playwright-core, exactly as package-lock.json says,
# by `npm ci`). Idempotent: a second run changes nothing and takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
# Chromium's own words in French (the file picker's button on the screenshots).
[ -e /usr/lib/chromium/locales/fr.pak ] || apt_packages+=(chromium-l10n)
{ command -v certutil >/dev/null && command -v pk12util >/dev/null; } || apt_packages+=(libnss3-tools)
command -v node >/dev/null || apt_packages+=(nodejs)
command -v npm >/dev/null || apt_packages+=(npm)
if ((${#apt_packages[@]})); then
  echo "installation des paquets Debian : ${apt_packages[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
fi

# playwright-core 1.64 wants Node.js 20 or later.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js $(node --version) est trop ancien pour tests/e2e (20 ou plus requis)" >&2
  exit 1
fi

# The node modules, reinstalled only when package.json or package-lock.json changed.
e2e=tests/e2e
stamp="$e2e/node_modules/.siseri-installed"
want=$(cat "$e2e/package.json" "$e2e/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "installation des modules Node de $e2e (npm ci)"
  (cd "$e2e" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi
