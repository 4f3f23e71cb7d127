#!/bin/sh
# The build enforces layer directions through include paths (src/meson.build);
# this check closes the one escape: relative includes that climb out of a
# layer's folder, and SQL text outside src/store.
set -eu
root=${1:-.}
bad=0
if grep -rnE '#include "\.\./' "$root/src"; then
    echo "layers: relative includes across layers are forbidden" >&2
    bad=1
fi
if grep -rnIE '\b(SELECT|INSERT INTO|UPDATE [a-z_]+ SET|DELETE FROM|CREATE TABLE)\b' "$root/src" \
        --include='*.c' --include='*.h' | grep -v '^'"$root"'/src/store/'; then
    echo "layers: SQL statements belong in src/store" >&2
    bad=1
fi
exit $bad
