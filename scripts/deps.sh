#!/usr/bin/env bash
# Installs the Debian 12 packages openlab needs to build, test and run, if any are missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang clang-tidy libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev libpq-dev libssl-dev libsodium-dev libzstd-dev zlib1g-dev
  libspdlog-dev libfmt-dev libcli11-dev libseccomp-dev libyaml-cpp-dev libzip-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 curl wrk
  slurm-wlm munge
  chromium fonts-nanum
  python3-numpy python3-joblib python3-threadpoolctl python3-decorator libgomp1
  libblas3 liblapack3 libgfortran5 liblbfgsb0
)
# libyaml-cpp-dev and libzip-dev read Codabench competition bundles (src/validation/bundle/).
# chromium runs the web console's browser suite (fonts-nanum: its screenshots show Korean).
# The validation metrics' tests and benchmarks compare every metric scikit-learn has with Debian's
# scikit-learn 1.2.1, run by /usr/bin/python3 in the same run: these are its run-time
# dependencies; scripts/sklearn.sh unpacks python3-sklearn and python3-scipy themselves (their
# installed form would remove libboost1.81-dev: see there).
# The web console builds with Node.js and npm (console/package-lock.json pins its packages, which
# run on Debian's Node 18 as on later ones): Debian's own, unless a node is already installed.
command -v node >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "openlab: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "openlab: error: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
