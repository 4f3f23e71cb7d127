"""`tunnus serve` over HTTP: SCIM 2.0 with python3-requests, API clients,
authentication throttling, /healthz and /metrics, and bad input. Each test
starts its own server on free loopback ports and stops it."""
import base64
import json
import re
import select
import socket
import subprocess
import time

import pytest
import requests

from conftest import BIN, ROOT, check_server_stop, hetu

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
FI = "urn:tunnus:params:scim:schemas:extension:finnish:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
CT = {"Content-Type": "application/scim+json"}


class Server:
    def __init__(self, t, http_extra=""):
        self.t = t
        conf = t.dir / "tunnus.conf"
        conf.write_text("[ldap]\nidle_timeout = 30\n[http]\n" + http_extra)
        self.proc = subprocess.Popen(
            [BIN, "--db", str(t.db), "--config", str(conf), "serve", "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stderr], [], [], 10)
        assert ready, "server did not start"
        # The HTTP line follows the LDAP one at once (both may be buffered).
        lines = [self.proc.stderr.readline(), self.proc.stderr.readline()]
        assert "ldap listening" in lines[0], lines
        m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", lines[1])
        assert m, lines
        self.port = int(m.group(1))
        self.base = f"http://127.0.0.1:{self.port}"
        self.scim = self.base + "/scim/v2"

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=20)
        check_server_stop(self.proc, rc)


def token(t, name, role="admin", *extra):
    out = t.json("client", "add", name, "--role", role, *extra)
    assert out["name"] == name and out["token"].startswith("tnk_")
    return out["token"]


def registry(t):
    t.run("orgunit", "add", "HR", "--name", "Henkilöstö")
    t.run("person", "add", "--given", "Maija Liisa", "--family", "Meikäläinen",
          "--national-id", hetu("010190", "-", 123), "--kind", "staff", "--from", "2020-01-01",
          "--org-unit", "HR", "--title", "Kirjuri", "--username", "maija",
          "--phone", "040 123 4567", "--language", "fi", "--email", "maija@koti.fi")
    t.run("person", "add", "--given", "Teppo", "--family", "Testaaja",
          "--birth-date", "1985-05-05", "--kind", "student", "--from", "2021-08-01",
          "--username", "teppo")
    t.run("person", "add", "--given", "Olli", "--family", "Opiskelija",
          "--birth-date", "2001-03-03", "--kind", "student", "--from", "2022-08-01",
          "--username", "olli", "--school", "Koulu", "--class", "9A", "--groups", "MA1;FY2")


@pytest.fixture
def srv(tunnus):
    registry(tunnus)
    tok = token(tunnus, "scim-admin")
    s = Server(tunnus)
    s.h = {"Authorization": f"Bearer {tok}"}
    s.tok = tok
    yield s
    s.stop()


def audit(t, action, result=None):
    q = "SELECT count(*) FROM audit_event WHERE action = ?"
    args = [action]
    if result:
        q += " AND result = ?"
        args.append(result)
    return t.sql(q, *args)[0][0]


def users(srv, **params):
    r = requests.get(srv.scim + "/Users", headers=srv.h, params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def uid_of(srv, username):
    body = users(srv, filter=f'userName eq "{username}"')
    assert body["totalResults"] == 1
    return body["Resources"][0]["id"]


def test_healthz_and_metrics(srv, tunnus):
    r = requests.get(srv.base + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    users(srv)
    requests.get(srv.scim + "/Users/nope", headers=srv.h, timeout=5)
    m = requests.get(srv.base + "/metrics", timeout=5).text
    assert 'tunnus_http_requests_total{route="users",status="200"} 1' in m
    assert 'tunnus_http_requests_total{route="users_id",status="404"} 1' in m
    assert "tunnus_http_request_duration_seconds_bucket{le=\"+Inf\"}" in m
    events = int(re.search(r"^tunnus_audit_read_events_total (\d+)$", m, re.M).group(1))
    assert events >= 3  # the three persons listed were audited as reads
    assert "tunnus_audit_read_ingest_stops_total 0" in m
    assert re.search(r"^tunnus_audit_read_tail_bytes \d+$", m, re.M)
    # The server's ingester moves them into the read log's tables.
    tunnus.settle_reads()
    m = requests.get(srv.base + "/metrics", timeout=5).text
    ingested = int(re.search(r"^tunnus_audit_read_ingested_total (\d+)$", m, re.M).group(1))
    assert ingested >= events
    assert "tunnus_audit_read_tail_bytes 0" in m
    assert "tunnus_http_auth_failures_total 0" in m
    assert 'tunnus_import_runs_total{status="done"} 0' in m
    subprocess.run(["/usr/bin/python3", str(ROOT / "tools" / "gen_population.py"), "--persons", "20",
                    "--seed", "3", "--out", str(tunnus.dir / "feeds")], check=True,
                   capture_output=True)
    tunnus.run("import", "--source", "hr", "--kind", "staff", str(tunnus.dir / "feeds" / "hr.csv"))
    m = requests.get(srv.base + "/metrics", timeout=5).text
    assert 'tunnus_import_runs_total{status="done"} 1' in m
    created = int(re.search(r'^tunnus_import_rows_total\{outcome="created"\} (\d+)$', m, re.M).group(1))
    assert created >= 1


def test_get_user_etag_and_no_national_id(srv, tunnus):
    nid = hetu("010190", "-", 123)
    uid = uid_of(srv, "maija")
    r = requests.get(f"{srv.scim}/Users/{uid}", headers=srv.h, timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/scim+json"
    u = r.json()
    assert u["userName"] == "maija" and u["name"]["familyName"] == "Meikäläinen"
    assert u["emails"][0]["type"] == "home" or any(e["type"] == "home" for e in u["emails"])
    assert u[ENT]["department"] == "HR" and u[ENT]["employeeNumber"] == "1"
    assert u[FI]["affiliations"][0]["kind"] == "staff"
    assert u["meta"]["location"].endswith(f"/scim/v2/Users/{uid}")
    assert r.headers["ETag"] == u["meta"]["version"] and r.headers["ETag"].startswith('W/"')
    assert nid not in r.text and "nationalId" not in r.text
    r2 = requests.get(f"{srv.scim}/Users/{uid}", headers={**srv.h, "If-None-Match": r.headers["ETag"]},
                      timeout=5)
    assert r2.status_code == 304 and r2.text == ""
    r3 = requests.get(f"{srv.scim}/Users/{uid}", headers={**srv.h, "If-None-Match": 'W/"1"'},
                      timeout=5)
    assert r3.status_code == 200
    assert requests.get(f"{srv.scim}/Users/00000000-0000-0000-0000-000000000000", headers=srv.h,
                        timeout=5).status_code == 404
    # The answer names its request; the audit events of the read carry it.
    rid = r.headers["X-Request-Id"]
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE request_id = ? AND "
                      "action = 'person.read' AND subject_id = ?", rid, uid)[0][0] == 1
    # Every person shown is on record as a read by this client.
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'person.read' AND "
                      "actor_id = 'scim-admin'")[0][0] >= 3



def test_text_and_tree_answers_agree(srv):
    """A plain GET and a userName lookup are written straight as text; with a
    projection (or a filter beyond the lookup) the User goes through the JSON
    tree. All of them must be the same document."""
    for name in ("maija", "teppo", "olli"):
        uid = uid_of(srv, name)
        def get(**params):
            r = requests.get(f"{srv.scim}/Users/{uid}", headers=srv.h, params=params, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()
        text = get()
        assert text["userName"] == name and text["id"] == uid
        assert text == get(excludedAttributes="externalId")
        for params in ({"filter": f'userName eq "{name.upper()}"'},
                       {"filter": f'userName eq "{name}" and id pr'},
                       {"filter": f'userName eq "{name}"', "excludedAttributes": "externalId"}):
            body = users(srv, **params)
            assert body["totalResults"] == 1 and body["itemsPerPage"] == 1, params
            assert body["Resources"] == [text], params
        past = users(srv, filter=f'userName eq "{name}"', startIndex=2)
        assert past["totalResults"] == 1 and past["Resources"] == [] and past["startIndex"] == 2

@pytest.mark.parametrize("flt,want", [
    ('userName eq "MAIJA"', ["maija"]),
    ('userName sw "t"', ["teppo"]),
    ('name.familyName co "ÄL" or userName eq "olli"', ["maija", "olli"]),
    ('not (userName eq "maija") and active eq false', ["olli", "teppo"]),
    ('emails[type eq "home" and value ew "koti.fi"]', ["maija"]),
    ('phoneNumbers pr', ["maija"]),
    (f'{FI}:class eq "9A"', ["olli"]),
    (f'{FI}:teachingGroups eq "fy2"', ["olli"]),
    (f'{ENT}:department eq "HR"', ["maija"]),
    ('meta.created gt "2000-01-01T00:00:00Z"', ["maija", "olli", "teppo"]),
    ('id eq "nobody"', []),
])
def test_filters(srv, flt, want):
    body = users(srv, filter=flt, sortBy="userName")
    assert [u["userName"] for u in body["Resources"]] == want
    assert body["totalResults"] == len(want)


@pytest.mark.parametrize("flt,where", [
    ('userName eq', "offset 11"),
    ('userName zz "x"', "offset 9"),
    ('(userName pr', "expected ')'"),
    ('emails[type eq "x"', "expected ']'"),
])
def test_invalid_filter(srv, flt, where):
    r = requests.get(srv.scim + "/Users", headers=srv.h, params={"filter": flt}, timeout=5)
    assert r.status_code == 400
    e = r.json()
    assert e["scimType"] == "invalidFilter" and where in e["detail"]
    assert e["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_sort_paging_and_projection(srv):
    asc = users(srv, sortBy="userName")
    assert [u["userName"] for u in asc["Resources"]] == ["maija", "olli", "teppo"]
    desc = users(srv, sortBy="name.familyName", sortOrder="descending")
    assert [u["name"]["familyName"] for u in desc["Resources"]] == ["Testaaja", "Opiskelija",
                                                                     "Meikäläinen"]
    page = users(srv, sortBy="userName", startIndex=2, count=1)
    assert page["totalResults"] == 3 and page["startIndex"] == 2 and page["itemsPerPage"] == 1
    assert page["Resources"][0]["userName"] == "olli"
    none = users(srv, count=0)
    assert none["totalResults"] == 3 and none["Resources"] == []
    proj = users(srv, attributes="userName,name.givenName", filter='userName eq "teppo"')
    u = proj["Resources"][0]
    assert set(u) == {"schemas", "id", "userName", "name"} and u["name"] == {"givenName": "Teppo"}
    exc = users(srv, excludedAttributes=f"meta,{FI},name.formatted", filter='userName eq "teppo"')
    u = exc["Resources"][0]
    assert "meta" not in u and FI not in u and "formatted" not in u["name"] and "id" in u
    bad = requests.get(srv.scim + "/Users", headers=srv.h, params={"sortOrder": "sideways"},
                       timeout=5)
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidValue"
    bad = requests.get(srv.scim + "/Users", headers=srv.h, params={"attributes": "1bad"}, timeout=5)
    assert bad.status_code == 400 and bad.json()["scimType"] == "invalidPath"


def new_user(username, given="Liisa", family="Lahtinen", **extra):
    u = {"schemas": [CORE, FI], "userName": username,
         "name": {"givenName": given, "familyName": family},
         "emails": [{"value": f"{username}@koti.fi", "type": "home"}],
         FI: {"birthDate": "1999-02-02",
              "affiliations": [{"kind": "staff", "orgUnit": "HR", "validFrom": "2024-01-01"}]}}
    u.update(extra)
    return u


def test_create_replace_and_uniqueness(srv, tunnus):
    r = requests.post(srv.scim + "/Users", headers={**srv.h, **CT}, json=new_user("liisa"),
                      timeout=10)
    assert r.status_code == 201, r.text
    u = r.json()
    assert r.headers["Location"] == u["meta"]["location"] and r.headers["ETag"]
    assert u["userName"] == "liisa" and u[FI]["affiliations"][0]["orgUnit"] == "HR"
    assert tunnus.sql("SELECT count(*) FROM account WHERE username = 'liisa'")[0][0] == 1
    dup = requests.post(srv.scim + "/Users", headers={**srv.h, **CT}, json=new_user("liisa"),
                        timeout=10)
    assert dup.status_code == 409 and dup.json()["scimType"] == "uniqueness"
    before = tunnus.sql("SELECT count(*) FROM person")[0][0]
    bad = requests.post(srv.scim + "/Users", headers={**srv.h, **CT},
                        json={"schemas": [CORE], "userName": "x", "name": {"givenName": "A"}},
                        timeout=10)
    assert bad.status_code == 400 and "familyName" in bad.json()["detail"]
    unknown = requests.post(srv.scim + "/Users", headers={**srv.h, **CT},
                            json=new_user("y", shoeSize=42), timeout=10)
    assert unknown.status_code == 400 and "shoeSize" in unknown.json()["detail"]
    assert tunnus.sql("SELECT count(*) FROM person")[0][0] == before

    put = dict(u)
    put["name"] = {"givenName": "Liisa", "familyName": "Laine"}
    put["phoneNumbers"] = [{"value": "+358401112222", "type": "mobile"}]
    r = requests.put(u["meta"]["location"], headers={**srv.h, **CT, "If-Match": u["meta"]["version"]},
                     json=put, timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["name"]["familyName"] == "Laine"
    assert r.json()["phoneNumbers"][0]["value"] == "+358401112222"
    put["userName"] = "renamed"
    r = requests.put(u["meta"]["location"], headers={**srv.h, **CT}, json=put, timeout=10)
    assert r.status_code == 400 and r.json()["scimType"] == "mutability"
    # A stale version is refused and nothing changes.
    r = requests.put(u["meta"]["location"], headers={**srv.h, **CT, "If-Match": u["meta"]["version"]},
                     json={**put, "userName": "liisa"}, timeout=10)
    assert r.status_code == 412
    assert tunnus.sql("SELECT family_name FROM person WHERE id = ?", u["id"])[0][0] == "Laine"


def patch(srv, uid, ops, **headers):
    return requests.patch(f"{srv.scim}/Users/{uid}", headers={**srv.h, **CT, **headers},
                          json={"schemas": [PATCH], "Operations": ops}, timeout=10)


def test_patch_paths(srv, tunnus):
    uid = uid_of(srv, "teppo")
    r = patch(srv, uid, [
        {"op": "add", "path": 'emails[type eq "home"].value', "value": "teppo@koti.fi"},
        {"op": "replace", "path": "name.givenName", "value": "Teppo Tapani"},
        {"op": "add", "path": "nickName", "value": "Tapani"},
        {"op": "replace", "value": {"preferredLanguage": "sv"}},
    ])
    assert r.status_code == 200, r.text
    u = r.json()
    assert u["name"]["givenName"] == "Teppo Tapani" and u["nickName"] == "Tapani"
    assert u["preferredLanguage"] == "sv" and u["displayName"] == "Tapani Testaaja"
    assert {"value": "teppo@koti.fi", "type": "home", "primary": True} in u["emails"]
    etag = r.headers["ETag"]
    r = patch(srv, uid, [{"op": "remove", "path": 'emails[type eq "home"]'},
                         {"op": "remove", "path": "nickName"}], **{"If-Match": etag})
    assert r.status_code == 200, r.text
    assert "emails" not in r.json() and "nickName" not in r.json()
    assert tunnus.sql("SELECT email, preferred_name FROM person WHERE id = ?", uid)[0] == ("", "")
    # The old version no longer matches.
    assert patch(srv, uid, [{"op": "add", "path": "nickName", "value": "Teppo"}],
                 **{"If-Match": etag}).status_code == 412
    for ops, kind in [
        ([{"op": "replace", "path": "active", "value": True}], "mutability"),
        ([{"op": "replace", "path": "userName", "value": "x"}], "mutability"),
        ([{"op": "replace", "path": f"{ENT}:department", "value": "IT"}], "mutability"),
        ([{"op": "replace", "path": "emails[type eq", "value": "x"}], "invalidPath"),
        ([{"op": "replace", "path": "shoeSize", "value": 1}], "invalidPath"),
        ([{"op": "remove"}], "noTarget"),
        ([{"op": "frobnicate", "path": "nickName"}], "invalidSyntax"),
        ([{"op": "replace", "path": "name.givenName", "value": ""}], "invalidValue"),
    ]:
        r = patch(srv, uid, ops)
        assert r.status_code == 400, (ops, r.text)
        assert r.json()["scimType"] == kind, (ops, r.text)
    assert tunnus.sql("SELECT given_names FROM person WHERE id = ?", uid)[0][0] == "Teppo Tapani"


def test_delete_is_refused(srv, tunnus):
    uid = uid_of(srv, "olli")
    r = requests.delete(f"{srv.scim}/Users/{uid}", headers=srv.h, timeout=5)
    assert r.status_code == 403 and r.json()["scimType"] == "mutability"
    assert "never deleted" in r.json()["detail"]
    assert tunnus.sql("SELECT count(*) FROM person WHERE id = ?", uid)[0][0] == 1


def test_bulk_with_bulk_ids_and_fail_on_errors(srv, tunnus):
    body = {"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": new_user("bulka")},
        {"method": "PATCH", "path": "/Users/bulkId:a",
         "data": {"schemas": [PATCH], "Operations": [{"op": "add", "path": "nickName",
                                                      "value": "Liisa"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": new_user("bulka")},
        {"method": "PATCH", "path": "/Users/bulkId:nope",
         "data": {"schemas": [PATCH], "Operations": [{"op": "add", "path": "nickName",
                                                      "value": "X"}]}},
    ]}
    r = requests.post(srv.scim + "/Bulk", headers={**srv.h, **CT}, json=body, timeout=20)
    assert r.status_code == 200, r.text
    ops = r.json()["Operations"]
    assert [o["status"] for o in ops] == ["201", "200", "409", "409"]
    assert ops[0]["bulkId"] == "a" and ops[0]["location"].endswith("/Users/" + ops[0]["location"].rsplit("/", 1)[1])
    assert ops[2]["response"]["scimType"] == "uniqueness"
    assert tunnus.sql("SELECT preferred_name FROM person p JOIN account a ON a.person_num = p.number "
                      "WHERE a.username = 'bulka'")[0][0] == "Liisa"
    body = {"schemas": [BULK], "failOnErrors": 1, "Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "x", "data": new_user("bulka")},
        {"method": "POST", "path": "/Users", "bulkId": "y", "data": new_user("bulkb")},
    ]}
    r = requests.post(srv.scim + "/Bulk", headers={**srv.h, **CT}, json=body, timeout=20)
    assert [o["status"] for o in r.json()["Operations"]] == ["409"]
    assert tunnus.sql("SELECT count(*) FROM account WHERE username = 'bulkb'")[0][0] == 0
    r = requests.post(srv.scim + "/Bulk", headers={**srv.h, **CT},
                      json={"Operations": []}, timeout=5)
    assert r.status_code == 400 and r.json()["scimType"] == "invalidSyntax"
    nested = {"schemas": [BULK], "Operations": [
        {"method": "POST", "path": "/Bulk", "bulkId": "n", "data": {"schemas": [BULK],
                                                                    "Operations": []}}]}
    r = requests.post(srv.scim + "/Bulk", headers={**srv.h, **CT}, json=nested, timeout=5)
    assert r.json()["Operations"][0]["status"] == "400"


def test_bad_bodies_keep_server_up(tunnus):
    registry(tunnus)
    tok = token(tunnus, "c")
    s = Server(tunnus, "max_body = 2048\ntimeout = 2\n")
    h = {"Authorization": f"Bearer {tok}"}
    try:
        url = s.scim + "/Users"
        r = requests.post(url, headers={**h, "Content-Type": "text/plain"}, data="{}", timeout=5)
        assert r.status_code == 415 and r.json()["status"] == "415"
        r = requests.post(url, headers={**h, **CT}, data='{"schemas": [', timeout=5)
        assert r.status_code == 400 and r.json()["scimType"] == "invalidSyntax"
        r = requests.post(url, headers={**h, **CT}, data="[" * 100 + "]" * 100, timeout=5)
        assert r.status_code == 400 and "nested too deeply" in r.json()["detail"]
        r = requests.post(url, headers={**h, **CT}, data=json.dumps({"x": "a" * 5000}), timeout=5)
        assert r.status_code == 413 and r.json()["status"] == "413"
        # The same without a Content-Length (chunked): read, dropped, refused.
        r = requests.post(url, headers={**h, **CT}, timeout=5,
                          data=(b'{"x": "' + b"a" * 1000 + b'"' if i == 0 else b"a" * 1000
                                for i in range(5)))
        assert r.status_code == 413
        # A slow client is cut off after [http] timeout.
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
        start = time.monotonic()
        assert c.recv(100) == b""
        assert time.monotonic() - start < 8
        c.close()
        # Garbage on the wire.
        c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        c.sendall(b"\x00\xffGARBAGE\r\n\r\n")
        c.recv(1000)
        c.close()
        assert requests.get(s.base + "/healthz", timeout=5).status_code == 200
        assert requests.get(url, headers=h, timeout=5).json()["totalResults"] == 3
        assert requests.get(s.base + "/nowhere", timeout=5).status_code == 404
        m = requests.get(s.base + "/metrics", timeout=5).text
        assert int(re.search(r"^tunnus_http_body_rejected_total (\d+)$", m, re.M).group(1)) >= 4
    finally:
        s.stop()


def test_client_lifecycle_and_auth_failures(srv, tunnus):
    url = srv.scim + "/Users"
    r = requests.get(url, timeout=5)
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    assert requests.get(url, headers={"Authorization": "Bearer tnk_wrong"}, timeout=5).status_code == 401
    hr = token(tunnus, "hr", "hr_integration")
    assert requests.get(url, headers={"Authorization": f"Bearer {hr}"}, timeout=5).status_code == 200
    # An HR integration creates persons (the stopgap rule until scoped roles land).
    r = requests.post(url, headers={"Authorization": f"Bearer {hr}", **CT}, json=new_user("hrnew"),
                      timeout=10)
    assert r.status_code == 201, r.text
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'person.enrol' AND "
                      "actor_id = 'hr' AND channel = 'scim'")[0][0] == 1
    # The token is stored only as a hash.
    assert hr.encode() not in tunnus.db.read_bytes()
    new = tunnus.json("client", "rotate", "hr")["token"]
    assert requests.get(url, headers={"Authorization": f"Bearer {hr}"}, timeout=5).status_code == 401
    assert requests.get(url, headers={"Authorization": f"Bearer {new}"}, timeout=5).status_code == 200
    tunnus.run("client", "revoke", "hr")
    assert requests.get(url, headers={"Authorization": f"Bearer {new}"}, timeout=5).status_code == 401
    listed = [json.loads(l) for l in tunnus.run("--json", "client", "list").stdout.splitlines()]
    assert {c["name"]: c["revoked"] for c in listed} == {"hr": True, "scim-admin": False}
    assert "token" not in json.dumps(listed)
    # A role without person access is refused (and audited).
    aud = token(tunnus, "aud", "auditor")
    assert requests.get(url, headers={"Authorization": f"Bearer {aud}"}, timeout=5).status_code == 403
    r = requests.post(url, headers={"Authorization": f"Bearer {aud}", **CT}, json=new_user("nope"),
                      timeout=10)
    assert r.status_code == 403
    assert tunnus.sql("SELECT count(*) FROM account WHERE username = 'nope'")[0][0] == 0
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE actor_id = 'aud' AND "
                      "result = 'denied'")[0][0] == 2
    assert audit(tunnus, "client.auth", "denied") >= 3  # malformed, rotated, revoked
    # Each client's first source address raised one alert.
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'client.new_source' "
                      "AND actor_id = 'hr'")[0][0] == 1
    # An allowlist without this address refuses it.
    far = token(tunnus, "far", "admin", "--allow", "192.0.2.0/24,2001:db8::/32")
    assert requests.get(url, headers={"Authorization": f"Bearer {far}"}, timeout=5).status_code == 401
    m = requests.get(srv.base + "/metrics", timeout=5).text
    assert int(re.search(r"^tunnus_http_auth_failures_total (\d+)$", m, re.M).group(1)) >= 4
    assert int(re.search(r"^tunnus_http_new_source_alerts_total (\d+)$", m, re.M).group(1)) >= 2


def test_throttling_of_failed_authentication(tunnus):
    registry(tunnus)
    tok = token(tunnus, "c")
    s = Server(tunnus, "auth_max_failures = 3\nauth_lockout = 60\n")
    try:
        url = s.scim + "/Users"
        bad = {"Authorization": "Bearer tnk_" + "A" * 43}
        codes = [requests.get(url, headers=bad, timeout=5).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        # Now even the right token waits.
        r = requests.get(url, headers={"Authorization": f"Bearer {tok}"}, timeout=5)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        m = requests.get(s.base + "/metrics", timeout=5).text
        assert "tunnus_http_throttled_total 1" in m
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'client.auth' AND "
                          "detail LIKE '%throttled%'")[0][0] == 1
        time.sleep(1.5)
        r = requests.get(url, headers={"Authorization": f"Bearer {tok}"}, timeout=5)
        assert r.status_code == 200
    finally:
        s.stop()


def test_me_with_basic_and_discovery(srv, tunnus):
    tunnus.run("account", "passwd", "username:maija", input="Kissa-123\n")
    basic = "Basic " + base64.b64encode(b"maija:Kissa-123").decode()
    r = requests.get(srv.scim + "/Me", headers={"Authorization": basic}, timeout=30)
    assert r.status_code == 200 and r.json()["userName"] == "maija"
    # A person sees only themselves.
    other = uid_of(srv, "teppo")
    r = requests.get(f"{srv.scim}/Users/{other}", headers={"Authorization": basic}, timeout=30)
    assert r.status_code == 403
    # A refused change is refused whole, and the refusal is on record.
    maija = uid_of(srv, "maija")
    denied = lambda: tunnus.sql("SELECT count(*) FROM audit_event WHERE actor_id = ? AND "
                                "result = 'denied'", maija)[0][0]
    before = denied()
    r = requests.patch(f"{srv.scim}/Users/{other}", headers={"Authorization": basic, **CT},
                       timeout=30, json={"schemas": [PATCH], "Operations": [
                           {"op": "add", "path": "nickName", "value": "Teppo"}]})
    assert r.status_code == 403
    assert denied() == before + 1
    assert tunnus.sql("SELECT preferred_name FROM person WHERE id = ?", other)[0][0] == ""
    # A person edits their own contact attributes through /Me, not their name.
    me = requests.patch(srv.scim + "/Me", headers={"Authorization": basic, **CT}, timeout=30,
                        json={"schemas": [PATCH], "Operations": [
                            {"op": "replace", "path": "phoneNumbers", "value": [{"value": "+358409998877"}]}]})
    assert me.status_code == 200, me.text
    assert me.json()["phoneNumbers"][0]["value"] == "+358409998877"
    me = requests.patch(srv.scim + "/Me", headers={"Authorization": basic, **CT}, timeout=30,
                        json={"schemas": [PATCH], "Operations": [
                            {"op": "replace", "path": "name.familyName", "value": "Muu"}]})
    assert me.status_code == 403, me.text
    assert tunnus.sql("SELECT family_name FROM person WHERE id = ?",
                      uid_of(srv, "maija"))[0][0] == "Meikäläinen"
    wrong = "Basic " + base64.b64encode(b"maija:wrong").decode()
    assert requests.get(srv.scim + "/Me", headers={"Authorization": wrong}, timeout=30).status_code == 401
    assert requests.get(srv.scim + "/Me", headers=srv.h, timeout=5).status_code == 501
    spc = requests.get(srv.scim + "/ServiceProviderConfig", headers=srv.h, timeout=5).json()
    assert spc["patch"]["supported"] and spc["bulk"]["maxOperations"] == 100
    assert spc["etag"]["supported"] and spc["sort"]["supported"] and spc["filter"]["supported"]
    rts = requests.get(srv.scim + "/ResourceTypes", headers=srv.h, timeout=5).json()
    assert {r["id"] for r in rts["Resources"]} == {"User", "Group"}
    assert requests.get(srv.scim + "/ResourceTypes/User", headers=srv.h, timeout=5).json()["endpoint"] == "/Users"
    schemas = requests.get(srv.scim + "/Schemas", headers=srv.h, timeout=5).json()
    assert {s["id"] for s in schemas["Resources"]} == {CORE, ENT, FI,
                                                       "urn:ietf:params:scim:schemas:core:2.0:Group"}
    one = requests.get(f"{srv.scim}/Schemas/{FI}", headers=srv.h, timeout=5).json()
    assert "affiliations" in {a["name"] for a in one["attributes"]}
    assert requests.get(f"{srv.scim}/Schemas/urn:nope", headers=srv.h, timeout=5).status_code == 404


def test_groups(srv):
    r = requests.get(srv.scim + "/Groups", headers=srv.h, timeout=10)
    assert r.status_code == 200
    groups = {g["id"]: g for g in r.json()["Resources"]}
    assert groups, r.text
    some = next(iter(groups))
    one = requests.get(f"{srv.scim}/Groups/{some}", headers=srv.h, timeout=5)
    assert one.status_code == 200 and one.json()["id"] == some
    # Members name their Users: value is the User's id, display its userName.
    for g in groups.values():
        for m in g["members"]:
            u = requests.get(m["$ref"], headers=srv.h, timeout=5).json()
            assert u["id"] == m["value"] and u["userName"] == m["display"]
    olli = uid_of(srv, "olli")
    r = requests.get(srv.scim + "/Groups", headers=srv.h, timeout=10,
                     params={"filter": f'members[value eq "{olli}"]'})
    assert r.status_code == 200 and r.json()["totalResults"] >= 3  # kind, school, class, groups
    assert all(any(m["value"] == olli for m in g["members"]) for g in r.json()["Resources"])
    assert requests.post(srv.scim + "/Groups", headers={**srv.h, **CT}, json={},
                         timeout=5).status_code == 405


def test_https_with_the_ldap_certificate(tunnus):
    """HTTPS (GnuTLS inside libmicrohttpd) serves the same PEM certificate
    and key as LDAPS when [http] names none."""
    registry(tunnus)
    tok = token(tunnus, "c")
    key, cert = tunnus.dir / "tls.key", tunnus.dir / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    conf = tunnus.dir / "tunnus.conf"
    conf.write_text(f"[ldap]\nidle_timeout = 30\ntls_cert = {cert}\ntls_key = {key}\n"
                    "[http]\nhttps_port = 0\n")
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 10)
        assert ready
        lines = [proc.stderr.readline() for _ in range(3)]
        m = re.search(r"https listening on 127\.0\.0\.1:(\d+)", lines[2])
        assert m, lines
        url = f"https://127.0.0.1:{m.group(1)}/scim/v2/Users"
        r = requests.get(url, headers={"Authorization": f"Bearer {tok}"}, verify=str(cert),
                         timeout=10)
        assert r.status_code == 200 and r.json()["totalResults"] == 3
        assert r.json()["Resources"][0]["meta"]["location"].startswith("https://")
        # An untrusting client refuses the certificate; the server stays up.
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, timeout=10)
        r = requests.get(url, headers={"Authorization": f"Bearer {tok}"}, verify=str(cert),
                         timeout=10)
        assert r.status_code == 200
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        check_server_stop(proc, rc)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def test_certificate_bound_client(tunnus):
    """A client bound to a certificate (`client add --cert-sha256`, as
    `openssl x509 -fingerprint -sha256` prints it) gets in only over HTTPS
    with that certificate, verified against [http] client_ca; an unbound
    client on the same listener needs none. Refusals are audited."""
    registry(tunnus)
    d = tunnus.dir
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout",
            str(d / "tls.key"), "-out", str(d / "tls.crt"), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout",
            str(d / "ca.key"), "-out", str(d / "ca.crt"), "-subj", "/CN=Client CA")
    for who in ("hr", "thief"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{who}.key"),
                "-out", str(d / f"{who}.csr"), "-subj", f"/CN={who}")
        openssl("x509", "-req", "-in", str(d / f"{who}.csr"), "-CA", str(d / "ca.crt"),
                "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "1",
                "-out", str(d / f"{who}.crt"))
    # Self-signed, not from the client CA, but holding the right key is not enough either.
    openssl("req", "-x509", "-key", str(d / "hr.key"), "-days", "1", "-out", str(d / "rogue.crt"),
            "-subj", "/CN=hr")
    fp = subprocess.run(["openssl", "x509", "-in", str(d / "hr.crt"), "-noout", "-fingerprint",
                         "-sha256"], check=True, capture_output=True, text=True).stdout
    fp = fp.strip().split("=", 1)[1]
    bound = token(tunnus, "bound", "admin", "--cert-sha256", fp)
    plain = token(tunnus, "plain", "admin")
    listed = {c["name"]: c for c in map(json.loads, tunnus.run("--json", "client", "list")
                                         .stdout.splitlines())}
    assert listed["bound"]["cert_sha256"] == fp.replace(":", "").lower()
    assert listed["plain"]["cert_sha256"] == ""
    conf = d / "tunnus.conf"
    conf.write_text(f"[ldap]\nidle_timeout = 30\n[http]\nhttps_port = 0\n"
                    f"tls_cert = {d / 'tls.crt'}\ntls_key = {d / 'tls.key'}\n"
                    f"client_ca = {d / 'ca.crt'}\n")
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        port = None
        while not port:
            line = proc.stderr.readline()
            assert line, "the server ended before announcing HTTPS"
            m = re.search(r"https listening on 127\.0\.0\.1:(\d+)", line)
            port = m and m.group(1)
        url = f"https://127.0.0.1:{port}/scim/v2/Users"

        def get(tok, cert=None):
            return requests.get(url, headers={"Authorization": f"Bearer {tok}"},
                                verify=str(d / "tls.crt"), cert=cert, timeout=10).status_code

        mine = (str(d / "hr.crt"), str(d / "hr.key"))
        assert get(bound, mine) == 200
        assert get(bound) == 401
        assert get(bound, (str(d / "thief.crt"), str(d / "thief.key"))) == 401
        assert get(bound, (str(d / "rogue.crt"), str(d / "hr.key"))) == 401
        assert get(plain) == 200 and get(plain, mine) == 200
        # Rebinding takes effect at the next request; unbinding frees the token.
        thief_fp = subprocess.run(["openssl", "x509", "-in", str(d / "thief.crt"), "-noout",
                                   "-fingerprint", "-sha256"], check=True, capture_output=True,
                                  text=True).stdout.strip().split("=", 1)[1]
        tunnus.run("client", "bind", "bound", "--cert-sha256", thief_fp)
        assert get(bound, mine) == 401
        assert get(bound, (str(d / "thief.crt"), str(d / "thief.key"))) == 200
        tunnus.run("client", "bind", "bound", "--none")
        assert get(bound) == 200
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        check_server_stop(proc, rc)
    reasons = [r[0] for r in tunnus.sql(
        "SELECT detail FROM audit_event WHERE action = 'client.auth' AND result = 'denied'")]
    assert any("no verified client certificate" in r for r in reasons)
    assert sum("not the bound one" in r for r in reasons) >= 2
    assert tunnus.sql("SELECT COUNT(*) FROM audit_event WHERE action = 'client.bind'")[0][0] == 2


def test_taken_ports_are_named_at_start(tunnus):
    """A port another program holds stops `tunnus serve` at start, with the
    listener and the port named (src/base/tn_net.c, shared by LDAP and HTTP)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    taken = s.getsockname()[1]
    try:
        conf = tunnus.dir / "tunnus.conf"
        conf.write_text("[ldap]\nidle_timeout = 30\n")
        for args, what in ((["--port", str(taken)], "LDAP"),
                           (["--port", "0", "--http-port", str(taken)], "HTTP")):
            p = subprocess.run([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve", *args],
                               capture_output=True, text=True, timeout=20)
            assert p.returncode != 0
            assert f"cannot listen for {what} on 127.0.0.1 port {taken}" in p.stderr, p.stderr
    finally:
        s.close()


def test_http_can_be_off(tunnus):
    conf = tunnus.dir / "tunnus.conf"
    conf.write_text("[ldap]\nidle_timeout = 30\n[http]\nport = off\n")
    proc = subprocess.Popen([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve",
                             "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True)
    try:
        ready, _, _ = select.select([proc.stderr], [], [], 10)
        assert ready
        assert "ldap listening" in proc.stderr.readline()
        time.sleep(0.3)
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        assert not ready  # no http line follows
    finally:
        proc.terminate()
        rc = proc.wait(timeout=20)
        check_server_stop(proc, rc)
