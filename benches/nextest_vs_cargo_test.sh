#!/bin/sh
# The conformance tests under `cargo test` (one process runs them all) and under
# `cargo nextest run` (a process per test), one after the other on the same build, with the
# wall and CPU time of each and their ratio (issue 12's target: nextest at most twice cargo
# test's time). Run from the repository root: `sh benches/nextest_vs_cargo_test.sh`. Both use
# the repository's settings: libtest's default threads for `cargo test`, .config/nextest.toml
# for nextest. Takes about two and a half minutes on two cores.
set -eu
command -v cargo-nextest >/dev/null || { echo "cargo-nextest is not installed (cargo install cargo-nextest)"; exit 2; }
features="--all-features"
cargo test $features --test conformance --no-run -q 2>/dev/null
load() { cut -d' ' -f1-3 /proc/loadavg; }
timed() {
    # Prints "WALL CPU" in seconds for the command's whole run.
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
    awk '{ printf "%.1f %.1f\n", $1, $2 + $3 }' "$tmp/time"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores; load average before: $(load)"
set -- $(timed cargo test $features --test conformance -q)
test_wall=$1 test_cpu=$2
summary=$(grep -E '^test result' "$tmp/out" | tail -1)
echo "cargo test --test conformance:         ${test_wall} s wall, ${test_cpu} s CPU ($summary)"
set -- $(timed cargo nextest run $features --test conformance --no-fail-fast)
nextest_wall=$1 nextest_cpu=$2
summary=$(grep -E 'Summary' "$tmp/out" | tail -1 | sed 's/^ *//')
echo "cargo nextest run --test conformance:  ${nextest_wall} s wall, ${nextest_cpu} s CPU ($summary)"
awk -v n="$nextest_wall" -v t="$test_wall" 'BEGIN { printf "nextest / cargo test: x%.2f (target at most x2)\n", n / t }'
echo "load average after: $(load)"
