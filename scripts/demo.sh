#!/bin/sh
# `make demo`: a registry holding a generated demo population, shown
# through the CLI. Uses only the repository (tools/gen_population.py), never
# ../shared. Re-running starts from a fresh demo registry.
set -eu
BIN=${1:-build/tunnus}
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-demo}
PERSONS=${DEMO_PERSONS:-300}
rm -rf "$DEMO"
mkdir -p "$DEMO"
cat > "$DEMO/tunnus.conf" <<CONF
[registry]
db = $DEMO/tunnus.db

[naming]
username_pattern = {given}.{family}
username_max = 20
email_pattern = {preferred}.{family}
email_domain = demo.tunnus.fi
CONF
export TUNNUS_CONF="$DEMO/tunnus.conf"

echo "== generating a population of $PERSONS persons (tools/gen_population.py)"
/usr/bin/python3 tools/gen_population.py --persons "$PERSONS" --seed 7 --out "$DEMO/feeds"

echo "== creating the registry"
"$BIN" init
echo "== loading the population"
/usr/bin/python3 scripts/demo_load.py "$BIN" "$DEMO/feeds"

echo
echo "== org units (tunnus orgunit list)"
"$BIN" orgunit list | head -20
echo
echo "== the first persons (tunnus person list --limit 10)"
"$BIN" person list --limit 10
echo
first=$("$BIN" --json person list --kind staff --limit 1 | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["identity_number"])')
echo "== one member of staff (tunnus person show number:$first)"
"$BIN" person show "number:$first"
echo
echo "== the same as JSON for scripts (tunnus --json person show number:$first)"
"$BIN" --json person show "number:$first" | head -30
echo
echo "Try it yourself:"
echo "  export TUNNUS_CONF=$DEMO/tunnus.conf"
echo "  $BIN person list --kind pupil --limit 5"
echo "  $BIN person show username:<name>"
