#!/usr/bin/env bash
# Time-boxed coverage-guided fuzzing on the stable toolchain: libFuzzer
# (the libfuzzer-sys crate builds it with the C++ compiler) driving the
# targets in fuzz/fuzz_targets, instrumented with rustc's stable
# SanitizerCoverage flags (what cargo-fuzz passes, without a sanitizer, which
# would need nightly). Run by scripts/test.sh.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default $MESHPLANE_FUZZ_SECONDS, else 90)
#
# For each target: every committed regression input (fuzz/regressions/<target>/)
# runs first, then the fuzzer runs for the budget over a working corpus
# (fuzz/corpus/<target>, not committed) seeded from fuzz/seeds/<target> and,
# for the loader, the example specs. A crash fails the run; its input is copied
# into fuzz/regressions/<target>/ to be committed with the fix.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"
secs="${1:-${MESHPLANE_FUZZ_SECONDS:-90}}"
host="$(rustc -vV | sed -n 's/^host: //p')"
targets=(load_str xds_stream)

echo "==> building fuzz targets (${targets[*]}) for $host"
# --target keeps the instrumentation off build scripts and proc macros.
RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks" \
    cargo build --release --quiet --target "$host" $(printf -- '--bin %s ' "${targets[@]}")
bin="target/$host/release"

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t" "seeds/$t"
    if [ "$t" = load_str ]; then
        find ../config/examples -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' \) \
            -exec cp -n {} "corpus/$t/" \;
    fi
    mapfile -t regressions < <(find "regressions/$t" -type f ! -name '.*' | sort)
    if [ "${#regressions[@]}" -gt 0 ]; then
        echo "==> $t: ${#regressions[@]} regression input(s)"
        if ! "$bin/$t" -runs=1 "${regressions[@]}" > "artifacts/$t/regressions.log" 2>&1; then
            tail -n 30 "artifacts/$t/regressions.log" >&2
            echo "scripts/fuzz.sh: $t fails on a committed regression input" >&2
            status=1
        fi
    fi
    echo "==> $t: fuzzing for ${secs}s"
    log="artifacts/$t/fuzz.log"
    rm -f "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-*
    if "$bin/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" "corpus/$t" "seeds/$t" > "$log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
        echo "    $t: no crash; ${execs:-?} executions, ${rate:-?} per second, corpus $(find "corpus/$t" -type f | wc -l) inputs"
    else
        tail -n 40 "$log" >&2
        for a in "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-*; do
            [ -e "$a" ] || continue
            cp "$a" "regressions/$t/"
            echo "scripts/fuzz.sh: $t found $(basename "$a"); kept as fuzz/regressions/$t/$(basename "$a") (commit it with the fix)" >&2
        done
        status=1
    fi
done
exit "$status"
