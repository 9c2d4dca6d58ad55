#!/usr/bin/env bash
# Builds the MPX example kernel (kernel-example/) and boots it in QEMU (TCG, -cpu max).
#
#   ./run-qemu.sh                        # every scenario in one boot, on Debian's QEMU 7.2
#   ./run-qemu.sh --qemu 10              # the same on QEMU 10.0 (Debian 12 bookworm-backports)
#   ./run-qemu.sh scenario=alloc         # one scenario (arguments become the kernel command line)
#   ./run-qemu.sh --qemu 10 --elf PROG [ARG...]   # a static Linux x86-64 program, unchanged
#   QEMU=/path/to/qemu-system-x86_64 ./run-qemu.sh   # any other QEMU (overrides --qemu)
#
# Options (before --elf; everything after --elf FILE is the program's arguments):
#   --qemu 7|10          which QEMU (installed when missing: scripts/qemu.sh, root + apt)
#   --file HOST[:GUEST]  another file for the program (guest path default: / + base name)
#   --timeout SECONDS    QEMU's time limit (default 300 with --elf, 120 without)
#   --mem MIB            guest RAM (default 512)
#
# Exit status, scenarios: 0 when the kernel's verdict is pass; otherwise non-zero
# (35 = a scenario failed, 37 = no MPX, 39 = kernel panic, 1 = QEMU exited with 0, i.e. a
# triple fault, 124 = timeout); 2 for bad options or no QEMU.
# Exit status, --elf: the program's, from the kernel's "MPX-EXIT status=N" line, or 128+N
# for "MPX-EXIT signal=N"; 125 when the kernel's checks after the program failed (frames
# or heap not back, table bookkeeping); never 0 after a triple fault, a timeout, a kernel
# panic or a missing MPX-EXIT line (then 1, 124 or 39 as above); 126 if it could not be loaded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kernel="$here/kernel-example/target/x86_64-unknown-linux-gnu/release/kernel"

usage() {
    sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "run-qemu.sh: $*" >&2; exit 2; }

version=7
timeout_s=
mem=512
elf=
files=()
while [ "$#" -gt 0 ]; do
    case "$1" in
        --qemu | --timeout | --mem | --file | --elf)
            [ "$#" -ge 2 ] || usage
            case "$1" in
                --qemu) version=$2 ;;
                --timeout) timeout_s=$2 ;;
                --mem) mem=$2 ;;
                --file) files+=("$2") ;;
                --elf) elf=$2; shift 2; break ;;
            esac
            shift 2
            ;;
        --qemu=* | --timeout=* | --mem=* | --file=* | --elf=*)
            opt=${1%%=*} value=${1#*=}
            shift
            set -- "$opt" "$value" "$@"
            ;;
        -h | --help) usage ;;
        --) shift; break ;;
        -*) echo "run-qemu.sh: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
done
[[ -z "$timeout_s" || "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout wants whole seconds, not '$timeout_s'"
[[ "$mem" =~ ^[1-9][0-9]*$ ]] && [ "$mem" -ge 64 ] || die "--mem wants MiB (64 or more), not '$mem'"
if [ -z "$timeout_s" ]; then
    if [ -n "$elf" ]; then timeout_s=300; else timeout_s=120; fi
fi
[ -n "$elf" ] || [ "${#files[@]}" -eq 0 ] || die "--file needs --elf"

if [ -n "${QEMU:-}" ]; then
    qemu=$QEMU
    [ -x "$qemu" ] || die "QEMU=$qemu is not an executable"
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

cmd=("$qemu" -machine pc -accel tcg -cpu max -m "${mem}M" -kernel "$kernel"
     -display none -no-reboot -serial stdio
     -device isa-debug-exit,iobase=0xf4,iosize=0x04)

# Percent-encodes one kernel command-line word: the kernel splits at spaces and reads
# only printable ASCII.
encode() {
    local LC_ALL=C s=$1 out= c i
    for (( i = 0; i < ${#s}; i++ )); do
        c=${s:i:1}
        case "$c" in
            [A-Za-z0-9._/=:,+@-]) out+=$c ;;
            *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

if [ -n "$elf" ]; then
    [ -f "$elf" ] || die "--elf $elf: no such file"
    # Each file becomes a multiboot module "HOSTPATH /guest". QEMU cuts the host path at
    # the first space and splits the list at commas, so the files go in by safe names
    # (a private directory) and commas in guest paths are doubled, as -initrd wants.
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    modules=
    n=0
    add_module() {
        local host=$1 guest=$2
        [ -f "$host" ] || die "--file $host: no such file"
        [[ "$guest" == /* && "$guest" != */ && "$guest" != *[[:space:]]* ]] ||
            die "guest path '$guest' must be absolute, without spaces"
        ln -s "$(realpath "$host")" "$staging/$n"
        [ -z "$modules" ] || modules+=,
        modules+="$staging/$n ${guest//,/,,}"
        n=$((n + 1))
    }
    program="/$(basename "$elf")"
    add_module "$elf" "$program"
    for f in "${files[@]}"; do
        case "$f" in
            *:*) add_module "${f%%:*}" "${f#*:}" ;;
            *) add_module "$f" "/$(basename "$f")" ;;
        esac
    done
    line="elf=$(encode "$program")"
    for arg in "$@"; do
        line+=" elfarg=$(encode "$arg")"
    done
    cmd+=(-initrd "$modules" -append "$line")
elif [ "$#" -gt 0 ]; then
    cmd+=(-append "$*")
fi
echo "+ timeout $timeout_s ${cmd[*]}" >&2

status=0
start=$(date +%s%N)
if [ -n "$elf" ]; then
    # The output is also kept to read the MPX-EXIT line from (the program's bytes pass
    # through unchanged).
    log="$staging/serial.log"
    timeout "$timeout_s" "${cmd[@]}" | tee "$log" || status=${PIPESTATUS[0]}
else
    timeout "$timeout_s" "${cmd[@]}" || status=$?
fi
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
printf 'run-qemu.sh: QEMU wall time %d.%03d s\n' $(( ms / 1000 )) $(( ms % 1000 )) >&2

if [ -n "$elf" ] && { [ "$status" -eq 33 ] || [ "$status" -eq 35 ]; }; then
    exit_line=$(tr -d '\r' < "$log" | grep -a -E '^MPX-EXIT (status|signal)=[0-9]+$' | tail -n 1 || true)
    if [ -z "$exit_line" ]; then
        if [ "$status" -eq 35 ]; then
            echo "run-qemu.sh: the kernel could not run the program (see its MPX-ELF line)" >&2
            exit 126
        fi
        echo "run-qemu.sh: the kernel printed no MPX-EXIT line: not a pass" >&2
        exit 1
    fi
    if [ "$status" -eq 35 ]; then
        echo "run-qemu.sh: the program ended ($exit_line) but the kernel's checks after it failed" >&2
        exit 125
    fi
    n=${exit_line##*=}
    case "$exit_line" in
        *status=*) echo "run-qemu.sh: the program exited with status $n" >&2; exit "$n" ;;
        *) echo "run-qemu.sh: the program was killed by signal $n" >&2; exit $(( 128 + n )) ;;
    esac
fi
case "$status" in
    33) echo "run-qemu.sh: verdict pass" >&2; exit 0 ;;
    35) echo "run-qemu.sh: verdict fail (a scenario failed)" >&2 ;;
    37) echo "run-qemu.sh: this CPU model has no MPX/XSAVE" >&2 ;;
    39) echo "run-qemu.sh: kernel panic or unexpected kernel exception" >&2 ;;
    124) echo "run-qemu.sh: timed out after $timeout_s s" >&2 ;;
    0) echo "run-qemu.sh: QEMU exited with 0 (triple fault?): not a pass" >&2 ;;
    *) echo "run-qemu.sh: QEMU exited with status $status" >&2 ;;
esac
exit $(( status == 0 ? 1 : status ))
