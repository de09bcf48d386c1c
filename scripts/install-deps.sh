#!/usr/bin/env bash
# Installs the packages Haven needs to build, run and test on Debian 12 (bookworm).
# Only what is missing is installed; when everything is present apt is not touched at all,
# so repeated runs are fast and work offline. Runs apt as root, or through sudo otherwise.
# Node.js and npm also build haven-care's guest page (a web client, with npm ci at build time).
# Node.js and npm are skipped when `node` and `npm` are already on PATH (e.g. from nvm or
# NodeSource), even though the Debian packages are not installed.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build pkg-config git ca-certificates curl python3
  python3-olm python3-matrix-nio python3-cryptography openssl python3-aiosmtpd
  libevent-dev liblmdb-dev lmdb-utils libsodium-dev rapidjson-dev libcurl4-openssl-dev
  libssl-dev libboost-test-dev libyaml-cpp-dev libspdlog-dev libcli11-dev libvips-dev
  coturn  # tests: a real TURN server for the VoIP credentials
  chromium  # tests: the guest page in a headless browser (playwright-core drives it)
)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == "installed" ]]
}

missing=()
for package in "${packages[@]}"; do
  is_installed "$package" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root, no sudo" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
