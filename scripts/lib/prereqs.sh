# shellcheck shell=bash
# System packages buurtpeil needs, checked and installed only when missing.
# Sourced by scripts/test.sh and scripts/demo.sh (bash, `set -euo pipefail`).
#
#   . scripts/lib/prereqs.sh
#   missing=()
#   need_build_packages          # what `cargo build` needs
#   need_package npm npm         # a command (or package) and its package
#   install_missing              # apt-get install "${missing[@]}", if any
#
# Works as root, or as a user with sudo; otherwise it says what to install.

prereqs_die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

missing=()

pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Newest /usr/lib/postgresql/<version>/bin that has a server in it.
newest_pg_bin() {
    local v
    [ -d /usr/lib/postgresql ] || return 1
    # shellcheck disable=SC2012 # version directories: plain names
    for v in $(ls /usr/lib/postgresql | sort -V -r); do
        if [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then
            echo "/usr/lib/postgresql/$v/bin"
            return 0
        fi
    done
    return 1
}

# need_package COMMAND PACKAGE: PACKAGE is missing unless COMMAND is on the
# PATH or PACKAGE is installed.
need_package() {
    { command -v "$1" >/dev/null 2>&1 || pkg_installed "$2"; } || missing+=("$2")
}

# What building buurtpeil needs beyond Rust: a C/C++ compiler, libpq (the
# PostgreSQL client, linked), and cmake + libclang to build the HiGHS solver
# of the panel selection from source (highs-sys).
need_build_packages() {
    { command -v cc >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1; } || missing+=(build-essential)
    pkg_installed libpq-dev || missing+=(libpq-dev)
    command -v cmake >/dev/null 2>&1 || missing+=(cmake)
    pkg_installed libclang-dev || missing+=(libclang-dev)
}

# Installs "${missing[@]}" with apt-get, if there is anything to install.
install_missing() {
    [ "${#missing[@]}" -gt 0 ] || return 0
    printf '\n==> Installing missing packages: %s\n' "${missing[*]}"
    if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
        prereqs_die "missing packages (${missing[*]}) and not root and no sudo: install them first"
    fi
    command -v apt-get >/dev/null 2>&1 \
        || prereqs_die "missing packages (${missing[*]}) and no apt-get: install them with your package manager"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    missing=()
}

need_cargo() {
    command -v cargo >/dev/null 2>&1 || prereqs_die "cargo not found: install Rust (https://rustup.rs) first"
}
