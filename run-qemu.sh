#!/usr/bin/env bash
# Builds the MPX example kernel (kernel-example/) and boots it in QEMU (TCG, -cpu max).
#
#   ./run-qemu.sh                        # every scenario in one boot, on Debian's QEMU 7.2
#   ./run-qemu.sh --qemu 10              # the same on QEMU 10.0 (Debian 12 bookworm-backports)
#   ./run-qemu.sh scenario=alloc         # one scenario (arguments become the kernel command line)
#   QEMU=/path/to/qemu-system-x86_64 ./run-qemu.sh   # any other QEMU (overrides --qemu)
#
# The QEMU asked for is installed when missing (scripts/qemu.sh; as root with apt, otherwise
# it names the command to run).
#
# Exit status: 0 when the kernel's verdict is pass; otherwise QEMU's status
# (35 = a scenario failed, 37 = no MPX, 39 = kernel panic, 0 from QEMU = triple fault,
# 124 = timeout), mapped to non-zero; 2 for bad options or no QEMU.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kernel="$here/kernel-example/target/x86_64-unknown-linux-gnu/release/kernel"

usage() {
    sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

version=7
while [ "$#" -gt 0 ]; do
    case "$1" in
        --qemu)
            [ "$#" -ge 2 ] || usage
            version=$2
            shift 2
            ;;
        --qemu=*)
            version=${1#--qemu=}
            shift
            ;;
        -h | --help) usage ;;
        --) shift; break ;;
        -*) echo "run-qemu.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done

if [ -n "${QEMU:-}" ]; then
    qemu=$QEMU
    [ -x "$qemu" ] || { echo "run-qemu.sh: QEMU=$qemu is not an executable" >&2; exit 2; }
else
    qemu=$("$here/scripts/qemu.sh" ensure "$version") || exit 2
fi
echo "run-qemu.sh: QEMU $("$here/scripts/qemu.sh" version "$qemu") ($qemu)" >&2

# The kernel has its own target and flags (kernel-example/.cargo/config.toml): do not let
# an outer cargo's environment leak into its build.
(cd "$here/kernel-example" &&
    env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET \
        -u CARGO_BUILD_RUSTFLAGS -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER \
        cargo build --release --quiet)

cmd=("$qemu" -machine pc -accel tcg -cpu max -m 512M -kernel "$kernel"
     -display none -no-reboot -serial stdio
     -device isa-debug-exit,iobase=0xf4,iosize=0x04)
if [ "$#" -gt 0 ]; then
    cmd+=(-append "$*")
fi
echo "+ timeout 120 ${cmd[*]}" >&2

status=0
start=$(date +%s%N)
timeout 120 "${cmd[@]}" || status=$?
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'run-qemu.sh: QEMU wall time %d.%03d s\n' $(( ms / 1000 )) $(( ms % 1000 )) >&2
case "$status" in
    33) echo "run-qemu.sh: verdict pass" >&2; exit 0 ;;
    35) echo "run-qemu.sh: verdict fail (a scenario failed)" >&2 ;;
    37) echo "run-qemu.sh: this CPU model has no MPX/XSAVE" >&2 ;;
    39) echo "run-qemu.sh: kernel panic or unexpected kernel exception" >&2 ;;
    124) echo "run-qemu.sh: timed out" >&2 ;;
    0) echo "run-qemu.sh: QEMU exited with 0 (triple fault?): not a pass" >&2 ;;
    *) echo "run-qemu.sh: QEMU exited with status $status" >&2 ;;
esac
exit $(( status == 0 ? 1 : status ))
