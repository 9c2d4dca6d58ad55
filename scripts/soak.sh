#!/usr/bin/env bash
# The long runs that do not belong in every `cargo test` (issue 10), in release mode:
#   - the simulator's proptests at 10^5 cases each (MPX_SOAK_CASES): random
#     sequences (scenarios/random.rs) and sequences under injected faults and
#     races (scenarios/hostile.rs), and the decoder's properties;
#   - six threads churning 10^6 operations with swap-outs (MPX_SOAK_OPS,
#     scenarios/churn.rs);
#   - the loom models (tests/loom.rs), as CI runs them.
# Usage: scripts/soak.sh [CASES [OPS]]. Prints what each run did and its time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export MPX_SOAK_CASES="${1:-100000}"
export MPX_SOAK_OPS="${2:-1000000}"

step() {
    local name=$1
    shift
    local start
    start=$(date +%s)
    echo "== $name"
    "$@"
    echo "== $name: $(( $(date +%s) - start )) s"
}

step "proptests, $MPX_SOAK_CASES cases each" \
    cargo test --release --all-features --test scenarios -- --nocapture hostile random
step "decoder properties, $MPX_SOAK_CASES cases each" \
    cargo test --release --all-features --test decode -- properties
step "churn, $MPX_SOAK_OPS operations on 6 threads" \
    cargo test --release --all-features --test scenarios -- --nocapture churn
step "loom models" \
    env RUSTFLAGS="--cfg loom" cargo test --release --test loom --target-dir target/loom -- --nocapture
