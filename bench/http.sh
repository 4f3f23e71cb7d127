#!/bin/bash
# HTTP benchmark of `tunnus serve`: wrk against SCIM with a bearer token,
# read auditing on, and the ceiling in the same script: nginx serving a
# static JSON file of the same size with the same wrk settings.
#
#   GET /scim/v2/Users/{id}                     random ids of the population
#   GET /scim/v2/Users?filter=userName eq "…"   random usernames (index lookup)
#   GET /user.json on nginx                     one worker, then as many as tunnus threads
#
#   bench/http.sh [BUILD_DIR]      (the build needs -Dbench=true for the loader)
#   env: PERSONS=100000 CONC="8 32" DUR=10 WARM=2 THREADS=2 (wrk threads, nginx workers)
#        HTTP_THREADS=0 (tunnus [http] threads; 0: the default, two per CPU)
#        CACHE_KIB= MMAP_MIB= (tunnus [http] cache_kib and mmap_mib; unset: the defaults)
#        AUDIT=on WORK=/tmp/tunnus-scim-bench-PID PORT=18380 NGINX_PORT=18381
#
# Prints one RESULT line per run and a summary with the ratios to nginx.
# Runs only on 127.0.0.1 and stops only the processes it started.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PERSONS=${PERSONS:-100000}
CONC=${CONC:-"8 32"}
DUR=${DUR:-10}
WARM=${WARM:-2}
THREADS=${THREADS:-2}
HTTP_THREADS=${HTTP_THREADS:-0}
CACHE_KIB=${CACHE_KIB:-}
MMAP_MIB=${MMAP_MIB:-}
AUDIT=${AUDIT:-on}
WORK=${WORK:-/tmp/tunnus-scim-bench-$$}
PORT=${PORT:-18380}
NGINX_PORT=${NGINX_PORT:-18381}
BIN="$ROOT/$BUILD/tunnus"
LOAD="$ROOT/$BUILD/bench/bench_ldap_load"
[[ -x $BIN && -x $LOAD ]] || { echo "build first: meson configure $BUILD -Dbench=true && ninja -C $BUILD" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "needs wrk and nginx" >&2; exit 1; }
mkdir -p "$WORK"
DB="$WORK/registry-$PERSONS.db"
if [[ ! -f $DB ]]; then
    echo "loading $PERSONS persons into $DB" >&2
    "$LOAD" "$DB" "$PERSONS" 0 >&2
fi

PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }
trap stop_all EXIT

read_audit=true; [[ $AUDIT == off ]] && read_audit=false
printf '[ldap]\nmax_connections = 64\n[http]\nport = %s\nthreads = %s\nread_audit = %s\nmax_connections = 1024\n' \
    "$PORT" "$HTTP_THREADS" "$read_audit" > "$WORK/tunnus.conf"
[[ -n $CACHE_KIB ]] && echo "cache_kib = $CACHE_KIB" >> "$WORK/tunnus.conf"
[[ -n $MMAP_MIB ]] && echo "mmap_mib = $MMAP_MIB" >> "$WORK/tunnus.conf"
# The registry into the page cache: one left from an earlier run (or
# evicted meanwhile: this machine's page cache holds about 1 GiB) would
# otherwise be served from disk in the first runs.
cat "$DB" > /dev/null
TOKEN=$("$BIN" --db "$DB" --json client add "bench-$(date +%s%N)" --role admin |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$BIN" --db "$DB" --config "$WORK/tunnus.conf" serve --port 0 2> "$WORK/serve.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "http listening" "$WORK/serve.log" && break; sleep 0.1; done
grep -q "http listening" "$WORK/serve.log" || { cat "$WORK/serve.log" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

# Ids of the population, through SCIM itself (1000 a page).
echo "collecting person ids" >&2
/usr/bin/python3 - "$BASE" "$TOKEN" "$PERSONS" "$WORK/ids.lua" <<'PY'
import json, sys, urllib.request
base, token, n, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ids, start = [], 1
while True:
    req = urllib.request.Request(f"{base}/scim/v2/Users?attributes=id&count=1000&startIndex={start}",
                                 headers={"Authorization": f"Bearer {token}"})
    page = json.load(urllib.request.urlopen(req, timeout=600))
    ids += [r["id"] for r in page["Resources"]]
    start += 1000
    if start > page["totalResults"]:
        break
with open(out, "w") as f:
    f.write("ids = {" + ",".join(json.dumps(i) for i in ids) + "}\n")
print(len(ids), file=sys.stderr)
PY

cat > "$WORK/byid.lua" <<LUA
dofile("$WORK/ids.lua")
wrk.headers["Authorization"] = "Bearer $TOKEN"
function init(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end
function request() return wrk.format("GET", "/scim/v2/Users/" .. ids[math.random(#ids)]) end
LUA
cat > "$WORK/filter.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
function init(args) math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6)) end
function request()
  return wrk.format("GET", string.format('/scim/v2/Users?filter=userName%%20eq%%20%%22u%06d%%22', math.random($PERSONS)))
end
LUA

# The ceiling's file: one User as tunnus answers it.
mkdir -p "$WORK/nginx/html" "$WORK/nginx/tmp"
FIRST=$(head -c 60 "$WORK/ids.lua" | grep -o '"[0-9a-f-]*"' | head -1 | tr -d '"')
curl -sf -H "Authorization: Bearer $TOKEN" "$BASE/scim/v2/Users/$FIRST" > "$WORK/nginx/html/user.json"
SIZE=$(wc -c < "$WORK/nginx/html/user.json")

RESULTS="$WORK/results.txt"
: > "$RESULTS"
run() {   # label conns url [script]
    local label=$1 c=$2 url=$3 script=${4:-} out rps p50 p99
    local args=(-t"$THREADS" -c"$c" -d"${DUR}s" --latency)
    [[ -n $script ]] && args+=(-s "$script")
    timeout $((WARM + 30)) wrk -t"$THREADS" -c"$c" -d"${WARM}s" ${script:+-s "$script"} "$url" >/dev/null 2>&1 || true
    out=$(timeout $((DUR + 30)) wrk "${args[@]}" "$url")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    local non2xx; non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); non2xx=${non2xx:-0}
    echo "RESULT $label conns=$c rps=$rps p50=$p50 p99=$p99 non2xx=$non2xx bytes=$SIZE" | tee -a "$RESULTS"
}

for c in $CONC; do
    run "tunnus-byid-audit-$AUDIT" "$c" "$BASE/scim/v2/Users/x" "$WORK/byid.lua"
    run "tunnus-filter-audit-$AUDIT" "$c" "$BASE/scim/v2/Users" "$WORK/filter.lua"
done
grep VmHWM "/proc/${PIDS[0]}/status" >&2 || true
# The mapped registry counts in RSS once per worker that touched a page;
# Pss shares each page among its mappings (the memory really used).
grep -E '^(Rss|Pss|Pss_File|Pss_Anon):' "/proc/${PIDS[0]}/smaps_rollup" >&2 || true
stop_all

for workers in 1 "$THREADS"; do
    cat > "$WORK/nginx/nginx.conf" <<NG
worker_processes $workers;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; use epoll; multi_accept on; }
http {
    types { application/scim+json json; }
    access_log off; sendfile on; tcp_nodelay on; etag off; server_tokens off;
    keepalive_requests 10000000; keepalive_timeout 65; open_file_cache max=64 inactive=60s;
    client_body_temp_path $WORK/nginx/tmp/body; proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi; uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    server { listen 127.0.0.1:$NGINX_PORT backlog=4096; root $WORK/nginx/html;
             location / { try_files \$uri =404; } }
}
NG
    nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -e "$WORK/nginx/error.log" &
    PIDS+=($!)
    for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/user.json" && break; sleep 0.1; done
    for c in $CONC; do
        run "nginx-w$workers" "$c" "http://127.0.0.1:$NGINX_PORT/user.json"
    done
    stop_all
done

echo
echo "summary (persons=$PERSONS, wrk -t$THREADS, ${DUR}s, tunnus [http] threads=$HTTP_THREADS cache_kib=${CACHE_KIB:-default} mmap_mib=${MMAP_MIB:-default}, body $SIZE B):"
/usr/bin/python3 - "$RESULTS" "$THREADS" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"RESULT (\S+) conns=(\d+) rps=([\d.]+) p50=(\S+) p99=(\S+)", line)
    if m:
        rows[(m.group(1), int(m.group(2)))] = (float(m.group(3)), m.group(4), m.group(5))
for (label, c), (rps, p50, p99) in sorted(rows.items()):
    if label.startswith("nginx"):
        continue
    ng = rows.get((f"nginx-w{sys.argv[2]}", c))
    ratio = f"{rps / ng[0]:.2f}" if ng else "?"
    print(f"  {label:28s} c={c:<3d} {rps:10.0f} req/s  p50 {p50:>8s}  p99 {p99:>8s}  "
          f"vs nginx-w{sys.argv[2]} {ratio}")
for (label, c), (rps, p50, p99) in sorted(rows.items()):
    if label.startswith("nginx"):
        print(f"  {label:28s} c={c:<3d} {rps:10.0f} req/s  p50 {p50:>8s}  p99 {p99:>8s}")
PY
