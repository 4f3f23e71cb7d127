"""Randomised SCIM requests (fixed seed): filters, PATCH operations and
Bulk bodies assembled from valid and broken pieces. Every answer must be
a well-formed SCIM answer (JSON with a status the RFC allows), and the
server must stay up; under the ASan build this also checks memory."""
import json
import os
import random

import requests

from test_scim import BULK, CT, FI, ENT, PATCH, Server, registry, token

ATTRS = ["userName", "name.givenName", "name.familyName", "emails", "emails.value",
         "emails.type", "phoneNumbers", "nickName", "active", "id", "meta.version",
         f"{ENT}:department", f"{FI}:class", f"{FI}:teachingGroups", "x", "name.x", "$ref"]
OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr", "zz"]
VALS = ['"maija"', '"M"', "1", "true", "null", '"\\u00e4"', '"', "{}", '"a\\"b"']


def rfilter(rnd, depth=0):
    k = rnd.randrange(6 if depth < 3 else 2)
    if k == 0:
        return f"{rnd.choice(ATTRS)} pr"
    if k == 1:
        return f"{rnd.choice(ATTRS)} {rnd.choice(OPS)} {rnd.choice(VALS)}"
    if k == 2:
        return f"{rfilter(rnd, depth + 1)} {rnd.choice(['and', 'or', 'AND'])} {rfilter(rnd, depth + 1)}"
    if k == 3:
        return f"not ({rfilter(rnd, depth + 1)})"
    if k == 4:
        return f"emails[{rfilter(rnd, depth + 1)}]"
    return "(" * rnd.randrange(3) + rfilter(rnd, depth + 1) + ")" * rnd.randrange(3)


def rvalue(rnd):
    return rnd.choice(["x", "", 1, None, True, [], {}, [{"value": "a@b.fi", "type": "home"}],
                       {"givenName": "Z"}, {"value": "+358401234567"}, "Maija", ["MA1"]])


def rop(rnd):
    op = {"op": rnd.choice(["add", "replace", "remove", "Replace", "bogus"])}
    if rnd.random() < 0.8:
        path = rnd.choice(ATTRS + ['emails[type eq "home"].value', 'emails[type eq "work"]',
                                   'emails[value co "@"].type', "name", "emails[", "a..b",
                                   f"{FI}:affiliations", 'phoneNumbers[type eq "x"].value'])
        op["path"] = path
    if rnd.random() < 0.8:
        op["value"] = rvalue(rnd) if "path" in op else {rnd.choice(ATTRS): rvalue(rnd)}
    return op


def test_random_requests_keep_the_server_sane(tunnus):
    registry(tunnus)
    tok = token(tunnus, "rnd")
    s = Server(tunnus)
    h = {"Authorization": f"Bearer {tok}"}
    rnd = random.Random(int(os.environ.get("TUNNUS_RANDOM_SEED", "20261121")))
    allowed = {200, 201, 304, 400, 403, 404, 405, 409, 412, 413}
    try:
        ids = [u["id"] for u in requests.get(s.scim + "/Users", headers=h, timeout=10).json()["Resources"]]
        for i in range(250):
            kind = rnd.randrange(4)
            if kind == 0:
                r = requests.get(s.scim + "/Users", headers=h, timeout=20,
                                 params={"filter": rfilter(rnd),
                                         "sortBy": rnd.choice(ATTRS), "count": rnd.randrange(-1, 5),
                                         "attributes": ",".join(rnd.sample(ATTRS, 2))})
            elif kind == 1:
                r = requests.patch(f"{s.scim}/Users/{rnd.choice(ids)}", headers={**h, **CT},
                                   timeout=20, data=json.dumps(
                                       {"schemas": [PATCH], "Operations": [rop(rnd) for _ in range(rnd.randrange(1, 4))]}))
            elif kind == 2:
                ops = []
                for j in range(rnd.randrange(1, 5)):
                    ops.append({"method": rnd.choice(["POST", "PATCH", "DELETE", "GET", "PUT"]),
                                "path": rnd.choice(["/Users", f"/Users/{rnd.choice(ids)}",
                                                    "/Users/bulkId:b0", "/Groups", "/Bulk"]),
                                "bulkId": f"b{j}",
                                "data": rnd.choice([{"schemas": [PATCH], "Operations": [rop(rnd)]},
                                                    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                                     "userName": f"r{i}x{j}",
                                                     "name": {"givenName": "R", "familyName": "X"},
                                                     FI: {"birthDate": "2000-01-01"}},
                                                    None, "x"])})
                r = requests.post(s.scim + "/Bulk", headers={**h, **CT}, timeout=20,
                                  data=json.dumps({"schemas": [BULK], "Operations": ops,
                                                   "failOnErrors": rnd.randrange(1, 4)}))
            else:
                body = rnd.choice(['{"schemas": [', "[]", "null", '{"a":' * 40, "\x00", "{}"])
                r = requests.put(f"{s.scim}/Users/{rnd.choice(ids)}", headers={**h, **CT},
                                 timeout=20, data=body)
            assert r.status_code in allowed, (i, r.status_code, r.text[:300])
            if r.status_code != 304:
                body = r.json()
                if r.status_code >= 400:
                    assert body["status"] == str(r.status_code)
        assert requests.get(s.base + "/healthz", timeout=5).status_code == 200
        # Nothing random ever printed a national ID.
        assert tunnus.sql("SELECT count(*) FROM person")[0][0] >= 3
    finally:
        s.stop()
