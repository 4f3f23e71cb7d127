#!/bin/sh
# `make demo`: a registry holding a generated demo population, brought in
# the way production data comes in: feeds imported from the four source
# systems, a lifecycle policy applied, and a lifecycle run that activates,
# closes and archives on today's date. Uses only the repository
# (tools/gen_population.py), never ../shared. Re-running starts afresh.
set -eu
BIN=${1:-build/tunnus}
cd "$(dirname "$0")/.."
DEMO=${DEMO_DIR:-demo}
PERSONS=${DEMO_PERSONS:-2000}
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

[ldap]
listen = 127.0.0.1
port = ${DEMO_LDAP_PORT:-3389}
base = dc=demo,dc=tunnus,dc=fi
tls_cert = $DEMO/tls/cert.pem
tls_key = $DEMO/tls/key.pem
ldaps_port = ${DEMO_LDAPS_PORT:-3636}

[http]
listen = 127.0.0.1
port = ${DEMO_HTTP_PORT:-8080}
CONF
# A self-signed certificate for StartTLS and LDAPS on loopback; clients
# trust it with LDAPTLS_CACERT=$DEMO/tls/cert.pem.
mkdir -p "$DEMO/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$DEMO/tls/key.pem" -out "$DEMO/tls/cert.pem" 2>/dev/null
chmod 600 "$DEMO/tls/key.pem"
export TUNNUS_CONF="$DEMO/tunnus.conf"

echo "== generating a population of $PERSONS persons (tools/gen_population.py)"
/usr/bin/python3 tools/gen_population.py --persons "$PERSONS" --seed 7 --out "$DEMO/feeds"

echo "== creating the registry"
"$BIN" init
echo "== importing the source feeds"
for feed in hr:staff officials:elected_official sis:student pupils:pupil; do
    src=${feed%%:*}
    kind=${feed#*:}
    printf '%-10s ' "$src"
    "$BIN" import --source "$src" --kind "$kind" "$DEMO/feeds/$src.csv"
done
echo "== applying the lifecycle policy (examples/policies/demo.json)"
"$BIN" policy apply examples/policies/demo.json
echo "== lifecycle run: accounts for current relationships, closing and archiving for ended ones"
"$BIN" lifecycle run | head -12

echo
echo "== org units (tunnus orgunit list)"
"$BIN" orgunit list | head -12
echo
echo "== the first persons (tunnus person list --limit 8)"
"$BIN" person list --limit 8
echo
first=$("$BIN" --json person list --kind staff --state active --limit 1 | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)[0]["identity_number"])')
echo "== an active member of staff (tunnus person show number:$first)"
"$BIN" person show "number:$first"
echo
echo "== their future under the policy (tunnus lifecycle forecast number:$first)"
"$BIN" lifecycle forecast "number:$first"
echo
echo "== who has read this person's data (tunnus audit subject number:$first)"
"$BIN" audit subject "number:$first" | head -8
echo
echo "== the audit trail verifies (tunnus audit verify)"
"$BIN" audit verify
echo
user=$("$BIN" --json person show "number:$first" | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)["accounts"][0]["username"])')
echo "demo-password" | "$BIN" account passwd "username:$user" >/dev/null
echo "Try it yourself:"
echo "  export TUNNUS_CONF=$DEMO/tunnus.conf"
echo "  $BIN person list --kind pupil --limit 5"
echo "  $BIN --json person show number:$first"
echo "  $BIN lifecycle plan --as-of 2027-06-01"
echo
echo "The LDAP directory (docs/ldap.md): $user has the password demo-password."
echo "  ldapsearch -x -H ldap://127.0.0.1:${DEMO_LDAP_PORT:-3389} -D uid=$user,ou=people,dc=demo,dc=tunnus,dc=fi \\"
echo "      -w demo-password -b ou=people,dc=demo,dc=tunnus,dc=fi '(uid=$user)' cn mail eduPersonAffiliation"
echo "  With TLS (StartTLS, or LDAPS on port ${DEMO_LDAPS_PORT:-3636}), trusting the demo's self-signed certificate:"
echo "  LDAPTLS_CACERT=$DEMO/tls/cert.pem ldapwhoami -x -ZZ -H ldap://127.0.0.1:${DEMO_LDAP_PORT:-3389} \\"
echo "      -D uid=$user,ou=people,dc=demo,dc=tunnus,dc=fi -w demo-password"
token=$("$BIN" --json client add demo-scim --role admin | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)["token"])')
echo
echo "SCIM 2.0 over HTTP (docs/scim.md): the API client demo-scim has the bearer token"
echo "  $token"
echo "  curl -s -H 'Authorization: Bearer $token' \\"
echo "      'http://127.0.0.1:${DEMO_HTTP_PORT:-8080}/scim/v2/Users?filter=userName%20eq%20%22$user%22'"
echo
echo "The admin REST API (docs/api.md), described at http://127.0.0.1:${DEMO_HTTP_PORT:-8080}/openapi.json:"
echo "  curl -s -H 'Authorization: Bearer $token' \\"
echo "      'http://127.0.0.1:${DEMO_HTTP_PORT:-8080}/api/v1/persons/username:$user/lifecycle'"
if [ "${DEMO_SERVE:-1}" = 1 ]; then
    echo
    echo "== tunnus serve: the directory on ldap://127.0.0.1:${DEMO_LDAP_PORT:-3389} and ldaps://127.0.0.1:${DEMO_LDAPS_PORT:-3636}, SCIM on http://127.0.0.1:${DEMO_HTTP_PORT:-8080}/scim/v2, the admin API on /api/v1 (Ctrl-C stops it)"
    exec "$BIN" serve
fi
