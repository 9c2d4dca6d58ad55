#!/usr/bin/env bash
# Builds the MPX example kernel (kernel-example/) and boots it in QEMU (TCG, -cpu max).
#
#   ./run-qemu.sh                      # every scenario in one boot
#   ./run-qemu.sh scenario=alloc       # one scenario (arguments become the kernel command line)
#
# Exit status: 0 when the kernel's verdict is pass; otherwise QEMU's status
# (35 = a scenario failed, 37 = no MPX, 39 = kernel panic, 0 from QEMU = triple fault,
# 124 = timeout), mapped to non-zero.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kernel="$here/kernel-example/target/x86_64-unknown-linux-gnu/release/kernel"

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "run-qemu.sh: qemu-system-x86_64 missing; installing qemu-system-x86" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-system-x86 >/dev/null
    else
        echo "run-qemu.sh: qemu-system-x86_64 not found; install it with: apt-get install -y qemu-system-x86" >&2
        exit 2
    fi
fi

# The kernel has its own target and flags (kernel-example/.cargo/config.toml): do not let
# an outer cargo's environment leak into its build.
(cd "$here/kernel-example" &&
    env -u RUSTFLAGS -u CARGO_ENCODED_RUSTFLAGS -u CARGO_TARGET_DIR -u CARGO_BUILD_TARGET \
        -u CARGO_BUILD_RUSTFLAGS -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER \
        cargo build --release --quiet)

cmd=(qemu-system-x86_64 -machine pc -accel tcg -cpu max -m 512M -kernel "$kernel"
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
