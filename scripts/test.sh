#!/bin/sh
# The whole test suite: a -Werror build and an ASan+UBSan build, each
# running the unit tests, fuzz-corpus replays and lint checks (meson test)
# and the pytest integration suite against its own binary; then the unit
# tests and corpus replays once more under valgrind. Ends with one line
# "N passed, N failed" over everything.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT
status=0

run_build() { # name dir meson-options...
    name=$1 dir=$2
    shift 2
    echo "=== $name build ($dir)"
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" --werror "$@" >"$RESULTS/$name-setup.log" 2>&1 ||
            { cat "$RESULTS/$name-setup.log"; return 1; }
    fi
    ninja -C "$dir" >"$RESULTS/$name-build.log" 2>&1 || { cat "$RESULTS/$name-build.log"; return 1; }
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
    cp "$dir/meson-logs/testlog.junit.xml" "$RESULTS/$name-meson.xml" 2>/dev/null
    echo "=== $name integration tests"
    TUNNUS_BIN="$ROOT/$dir/tunnus" TUNNUS_SANITIZED=$([ "$name" = asan ] && echo 1 || echo 0) \
        /usr/bin/python3 -m pytest -q -p no:cacheprovider \
        --junitxml="$RESULTS/$name-pytest.xml" tests/integration || status=1
}

# The independent SCIM client (tests/scim-client, SCIMMY from npm) at the
# versions its package-lock.json pins.
if [ ! -d tests/scim-client/node_modules ]; then
    (cd tests/scim-client && npm ci --no-audit --no-fund) || status=1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_build release build || status=1
run_build asan build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false || status=1

echo "=== valgrind (unit tests and corpus replays of the release build)"
meson test -C build --suite unit --suite fuzz --num-processes 2 --timeout-multiplier 10 \
    --wrap='valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect -q' \
    --logbase valgrind || status=1
cp build/meson-logs/valgrind.junit.xml "$RESULTS/valgrind-meson.xml" 2>/dev/null

/usr/bin/python3 scripts/junit_total.py "$RESULTS"/*.xml || status=1
exit $status
