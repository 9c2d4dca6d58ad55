#!/usr/bin/env bash
# Finds, or installs, the QEMU that a run asks for. run-qemu.sh, tests/qemu.rs and .ci/run
# all go through this script, so the arrangement below is written once.
#
#   scripts/qemu.sh find 7|10      print the path of qemu-system-x86_64 of that major version,
#                                  or exit 1 (quietly) if there is none
#   scripts/qemu.sh ensure 7|10    the same, installing it first when missing (root + apt);
#                                  otherwise exit 2 with the command to run
#   scripts/qemu.sh version PATH   print the version ("7.2.22") of a qemu-system-x86_64
#
# The two versions are Debian 12's: 7.2 from bookworm, 10.0 from bookworm-backports. They
# cannot both be installed as packages (same package name), so:
# - Debian's qemu-system-x86 (7.2) is installed normally, into /usr (the default QEMU);
# - any other version is unpacked from its .debs into /opt/qemu-<major> with `dpkg -x`
#   (qemu-system-x86, -common, -data, plus the seabios and ipxe-qemu it was built for),
#   after `apt-get install` of the libraries its package depends on.
# A QEMU outside /usr would still load modules (and firmware) from the paths compiled into
# it, i.e. 7.2's /usr/lib/x86_64-linux-gnu/qemu, and abort ("Only modules from the same
# build can be loaded"). QEMU first looks for those paths under <directory of the
# binary>/qemu-bundle (the layout of its build tree), so /opt/qemu-<major>/usr/bin/qemu-bundle
# is a link to /opt/qemu-<major> itself: the private QEMU then finds only its own modules,
# ROMs and BIOS, with no -L option and no mount namespace.
#
# If the system QEMU in /usr is not 7 (say backports' 10 was installed as a package), 7 goes
# to /opt/qemu-7 the same way.
set -euo pipefail

die() { echo "scripts/qemu.sh: $*" >&2; exit 2; }

# Runs a command with its output kept back unless it fails.
quietly() {
    local log
    log=$(mktemp)
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "failed: $*"
    fi
    rm -f "$log"
}

major_suite() {
    case "$1" in
        7) echo bookworm ;;
        10) echo bookworm-backports ;;
        *) die "unknown QEMU version '$1' (known: 7 = Debian 12, 10 = bookworm-backports)" ;;
    esac
}

# The version ("7.2.22") a qemu-system-x86_64 binary reports, or nothing.
version_of() {
    "$1" --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([0-9][0-9.]*\).*/\1/p'
}

prefix_of() { echo "/opt/qemu-$1"; }

find_qemu() {
    local want=$1 bin
    for bin in "$(command -v qemu-system-x86_64 || true)" "$(prefix_of "$want")/usr/bin/qemu-system-x86_64"; do
        [ -n "$bin" ] && [ -x "$bin" ] || continue
        local v
        v=$(version_of "$bin")
        if [ "${v%%.*}" = "$want" ]; then
            echo "$bin"
            return 0
        fi
    done
    return 1
}

# The Debian mirror the machine's own bookworm entry uses.
debian_mirror() {
    local uri=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ { print u; exit }' \
            /etc/apt/sources.list.d/*.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

add_backports() {
    if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return
    fi
    echo "scripts/qemu.sh: adding bookworm-backports ($(debian_mirror))" >&2
    cat >/etc/apt/sources.list.d/bookworm-backports.sources <<EOF
Types: deb
URIs: $(debian_mirror)
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    quietly apt-get update -qq
}

# Unpacks QEMU of suite $2 into /opt/qemu-$1, with its library dependencies installed.
install_private() {
    local major=$1 suite=$2 prefix tmp
    prefix=$(prefix_of "$major")
    tmp=$(mktemp -d)
    chmod 755 "$tmp"
    (cd "$tmp" && quietly apt-get download -qq -t "$suite" \
        qemu-system-x86 qemu-system-common qemu-system-data seabios ipxe-qemu)
    local deps
    deps=$(dpkg-deb -f "$tmp"/qemu-system-x86_*.deb Depends |
        tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
        grep -v -E '^(qemu-system-.*|seabios|ipxe-qemu)$' | grep -v '^$')
    # shellcheck disable=SC2086 # one package name per word
    quietly apt-get install -y -qq --no-install-recommends $deps
    rm -rf "$prefix.new"
    mkdir -p "$prefix.new"
    local deb
    for deb in "$tmp"/*.deb; do
        dpkg -x "$deb" "$prefix.new"
    done
    ln -s ../.. "$prefix.new/usr/bin/qemu-bundle"
    rm -rf "$prefix" "$tmp"
    mv "$prefix.new" "$prefix"
}

ensure_qemu() {
    local want=$1 suite
    suite=$(major_suite "$want")
    if find_qemu "$want"; then
        return 0
    fi
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "QEMU $want not found; install it as root with: sudo $0 ensure $want"
    fi
    echo "scripts/qemu.sh: installing QEMU $want (Debian $suite)" >&2
    export DEBIAN_FRONTEND=noninteractive
    [ "$suite" = bookworm-backports ] && add_backports
    quietly apt-get update -qq
    if [ "$want" = 7 ] && ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
        quietly apt-get install -y -qq -t bookworm qemu-system-x86
    else
        install_private "$want" "$suite"
    fi
    find_qemu "$want" || die "QEMU $want still not found after installing it"
}

case "${1:-}" in
    find) [ $# = 2 ] || die "usage: $0 find 7|10"; major_suite "$2" >/dev/null; find_qemu "$2" ;;
    ensure) [ $# = 2 ] || die "usage: $0 ensure 7|10"; ensure_qemu "$2" ;;
    version) [ $# = 2 ] || die "usage: $0 version PATH"; version_of "$2" ;;
    *) die "usage: $0 find|ensure 7|10, or $0 version PATH" ;;
esac
