#!/bin/sh
# Install the Debian 12 packages tunnus needs to build, test and demo.
# Idempotent: installs only what is missing, and runs apt-get update only
# when something is. Needs root (or sudo) only when something is missing.
set -eu

PKGS="gcc clang libclang-rt-14-dev meson ninja-build pkg-config
libsqlite3-dev sqlite3 libzstd-dev python3-zstandard libsodium-dev libjansson-dev libcsv-dev libinih-dev
libcmocka-dev python3 python3-pytest valgrind time faketime
libldap-dev ldap-utils python3-ldap3 nslcd libnss-ldapd openssl slapd
libcurl4-gnutls-dev nodejs npm libmicrohttpd-dev libgnutls28-dev python3-requests curl"

missing=""
for p in $PKGS; do
    # Node.js from another source (NodeSource's nodejs bundles npm) serves
    # as well as Debian's packages; installing Debian's npm over it would
    # conflict.
    case $p in nodejs | npm) command -v "$( [ "$p" = nodejs ] && echo node || echo npm )" >/dev/null 2>&1 && continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "deps: need root to install:$missing" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# slapd: provisioning tests start their own on loopback (tests/integration/
# slapd_peer.py); its package's service and default database are not used.
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
