#!/usr/bin/env bash
# Installs, from Debian's packages, whatever orderly needs to build, test and
# benchmark that is not already on this machine. Idempotent: when everything
# is present it changes nothing and does not even refresh the package lists.
# Works as root; uses sudo otherwise.
set -euo pipefail

packages=(
    g++            # C++20 compiler (GCC 12 on Debian 12)
    cmake          # >= 3.25: workflow presets
    ninja-build    # the generator every preset uses
    ccache         # compiler cache; the presets use it when present
    libboost1.81-dev  # MSM, Multiprecision, System (header-only); 1.74's MSM fails as C++20
    libfmt-dev     # formatting
    doctest-dev    # tests
    libsqlite3-dev # the embedded default store
    libbenchmark-dev  # benchmarks/
    git            # the consumer test and the README's clone
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: everything orderly needs is installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "install-deps: missing ${missing[*]} and not root, and sudo is not available" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
