#!/usr/bin/env bash
# Makes Debian 12's scikit-learn 1.2.1 (python3-sklearn, python3-sklearn-lib) and SciPy
# (python3-scipy) importable by /usr/bin/python3 from DIR (default build/sklearn), for the
# validation metrics' tests and benchmarks, which compare every metric scikit-learn has with it in
# the same run (the tests put DIR's site folder on PYTHONPATH).
#
# Why not `apt-get install python3-sklearn`: python3-scipy depends on python3-pythran, which
# depends on libboost-dev (Boost 1.74), and Debian's libboost1.74-dev conflicts with the
# libboost1.81-dev that openlab builds with (Boost.URL and Boost.JSON need 1.81). So the two
# packages are fetched from Debian with `apt-get download` and unpacked with `dpkg -x` into DIR;
# their run-time dependencies (numpy, joblib, threadpoolctl, the compiled scikit-learn library,
# BLAS, LAPACK) are installed normally by scripts/deps.sh. Prints the folder to put on
# PYTHONPATH.
set -euo pipefail

dir="${1:-build/sklearn}"
site="$dir/usr/lib/python3/dist-packages"
if [ -f "$site/sklearn/__init__.py" ] && [ -f "$site/scipy/__init__.py" ]; then
  echo "$site"
  exit 0
fi
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fetch() { (cd "$tmp" && apt-get download python3-sklearn python3-sklearn-lib python3-scipy >/dev/null 2>&1); }
if ! fetch; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  fetch || { echo "openlab: error: cannot download python3-sklearn, python3-sklearn-lib and python3-scipy from Debian" >&2; exit 1; }
fi
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dir"; done
PYTHONPATH="$site" /usr/bin/python3 -c 'import sklearn, scipy; assert sklearn.__version__ == "1.2.1", sklearn.__version__' ||
  { echo "openlab: error: scikit-learn from $dir does not import" >&2; exit 1; }
echo "$site"
