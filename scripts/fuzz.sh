#!/bin/sh
# Run every libFuzzer target for FUZZ_SECONDS (default 60) each, starting
# from its committed corpus (tests/fuzz/corpus/NAME). New inputs go to a
# scratch copy; crashes are left in build-fuzz/crashes/ to be added to the
# corpus as regression tests. Needs clang (scripts/deps.sh installs it).
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzzing=true -Dbench=false \
        -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C build-fuzz >/dev/null
mkdir -p build-fuzz/crashes
status=0
for bin in build-fuzz/tests/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    work=build-fuzz/corpus-$name
    rm -rf "$work"
    cp -r "tests/fuzz/corpus/$name" "$work"
    echo "=== $name: ${SECS}s"
    "$bin" -max_total_time="$SECS" -artifact_prefix=build-fuzz/crashes/"$name"- \
        -print_final_stats=1 "$work" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" || true
    ls build-fuzz/crashes/"$name"-* >/dev/null 2>&1 && { echo "$name: crash inputs in build-fuzz/crashes"; status=1; }
done
exit $status
