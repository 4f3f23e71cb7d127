"""The route access matrix of the admin REST API (SEC-4, issue 7 item 6).

Every route of /api/v1 (as /openapi.json lists them, which is generated
from the C route table) is called by every role over HTTP against a real
`tunnus serve`:

  admin, helpdesk, unit_admin (scope city/north), hr_integration, auditor,
  dpo -- API clients made with `tunnus client add` -- and self, a person
  without roles authenticating with HTTP Basic;

on three objects: "own" (the self person's record, in city/south, so out
of the unit_admin's scope), "in" (a person in city/north) and "out" (a
person in city/south). A route that concerns no person has one object,
"none". The expected outcome is written down here from docs/access.md,
independently of the service layer's rule table: Y = allowed (any answer
but 401/403/405/5xx; reads must answer 200), "." = denied (403 with a JSON
error, and a denial event in the audit trail).

A route in the document without rows here fails
test_every_route_has_rows; tests/unit/test_api_routes.c checks the same
against the C table at build time.
"""
import json
import re
import select
import subprocess

import pytest
import requests

from conftest import BIN, check_server_stop, hetu

PASSWORD = "Kissa-Koira-42"
ACTORS = ["admin", "helpdesk", "unit_admin", "hr_integration", "auditor", "dpo", "self"]
API = "/api/v1"

POLICY = {
    "name": "access test", "timezone": "Europe/Helsinki", "legal_hold_days": 30,
    "kinds": {k: {"activate_before_days": 0, "close_after_days": 7, "archive_after_days": 30,
                  "purge_after_days": 30} for k in ("staff", "student", "guest")},
}

# ---- expectations, per docs/access.md ----------------------------------------
# One character per actor in ACTORS order. For clients, "own" is just a
# person in city/south (out of the unit_admin's scope).
PERSON_READ = {"own": "YY.Y.YY", "in": "YYYY.Y.", "out": "YY.Y.Y."}
SELF_EDIT = {"own": "Y..Y..Y", "in": "Y.YY...", "out": "Y..Y..."}
PERSON_WRITE = {"own": "Y..Y...", "in": "Y.YY...", "out": "Y..Y..."}
PASSWORD_RESET = {"own": "YY.....", "in": "YYY....", "out": "YY....."}
HOLD = {"own": "Y....Y.", "in": "Y.Y..Y.", "out": "Y....Y."}
AUDIT_SUBJECT = {"own": "Y...YYY", "in": "Y...YY.", "out": "Y...YY."}
ERROR_REPORT = {"own": "YY....Y", "in": "YYY....", "out": "YY....."}
ROLE_ADMIN = {"own": "Y......", "in": "Y......", "out": "Y......"}
ROLE_READ_ONE = {"own": "Y...Y..", "in": "Y...Y..", "out": "Y...Y.."}
# A list without a unit filter / with one inside / outside the scope.
PERSON_LIST = {"own": "YY.Y.Y.", "in": "YYYY.Y.", "out": "YY.Y.Y."}


def G(expect):
    return {"none": expect}


# (method, pattern) -> list of cases: (expectation, request builder, read).
# A builder gets the fixture and an object name and returns
# (path, json body or None, query params or None).
ROWS = {
    ("GET", "/persons"): [
        (PERSON_LIST, lambda f, o: ("/persons", None,
                                    {"own": None, "in": {"org_unit": "city/north"},
                                     "out": {"org_unit": "city/south"}}[o]), True)],
    ("POST", "/persons"): [
        (G("Y..Y..."), lambda f, o: ("/persons", {"given_names": "Uusi", "family_name": "Henkilö",
                                                  "birth_date": "2001-01-01"}, None), False)],
    ("GET", "/persons/{id}"): [(PERSON_READ, lambda f, o: (f"/persons/{f.id[o]}", None, None), True)],
    ("PATCH", "/persons/{id}"): [
        # the phone is self-editable (REG-5); a name is not
        (SELF_EDIT, lambda f, o: (f"/persons/{f.id[o]}", {"phone": f.phone()}, None), False),
        (PERSON_WRITE, lambda f, o: (f"/persons/{f.id[o]}", {"given_names": f.given(o)}, None),
         False)],
    ("GET", "/persons/{id}/affiliations"): [
        (PERSON_READ, lambda f, o: (f"/persons/{f.id[o]}/affiliations", None, None), True)],
    ("POST", "/persons/{id}/affiliations"): [
        (PERSON_WRITE, lambda f, o: (f"/persons/{f.id[o]}/affiliations",
                                     {"kind": "guest", "org_unit": "other",
                                      "valid_from": "2024-01-01"}, None), False)],
    ("POST", "/affiliations/{id}/end"): [
        (PERSON_WRITE, lambda f, o: (f"/affiliations/{f.fresh_aff(o)}/end",
                                     {"last_day": "2025-06-01", "reason": "contract_end"}, None),
         False)],
    ("POST", "/persons/{id}/account"): [
        # everybody has an account: allowed is 409, denied 403
        (PERSON_WRITE, lambda f, o: (f"/persons/{f.id[o]}/account", None, None), False)],
    ("GET", "/accounts/{username}"): [
        (PERSON_READ, lambda f, o: (f"/accounts/{f.user[o]}", None, None), True)],
    ("POST", "/accounts/{username}/password"): [
        (PASSWORD_RESET, lambda f, o: (f"/accounts/{f.user[o]}/password",
                                       {"password": PASSWORD}, None), False)],
    ("GET", "/usernames/{username}"): [
        (PERSON_READ, lambda f, o: (f"/usernames/{f.user[o]}", None, None), True)],
    ("GET", "/persons/{id}/lifecycle"): [
        (PERSON_READ, lambda f, o: (f"/persons/{f.id[o]}/lifecycle", None, None), True)],
    ("GET", "/persons/{id}/handovers"): [
        (PERSON_READ, lambda f, o: (f"/persons/{f.id[o]}/handovers", None, None), True)],
    ("POST", "/persons/{id}/hold"): [
        (HOLD, lambda f, o: (f"/persons/{f.id[o]}/hold", {"days": 1, "reason": "investigation"},
                             None), False)],
    ("GET", "/persons/{id}/audit"): [
        (AUDIT_SUBJECT, lambda f, o: (f"/persons/{f.id[o]}/audit", None, None), True)],
    ("GET", "/me/audit"): [(G("......Y"), lambda f, o: ("/me/audit", None, None), True)],
    ("GET", "/audit/verify"): [(G("Y...Y.."), lambda f, o: ("/audit/verify", None, None), True)],
    ("GET", "/imports"): [(G("Y..Y..."), lambda f, o: ("/imports", None, None), True)],
    ("GET", "/review"): [(G("Y..Y..."), lambda f, o: ("/review", None, None), True)],
    ("POST", "/review/{id}"): [
        (G("Y..Y..."), lambda f, o: (f"/review/{f.review}", {"decision": "accept"}, None), False)],
    ("GET", "/policy"): [(G("Y......"), lambda f, o: ("/policy", None, None), True)],
    ("PUT", "/policy"): [
        # not a valid policy: the check comes after the access decision
        (G("Y......"), lambda f, o: ("/policy", {"name": "no kinds"}, None), False)],
    ("GET", "/roles"): [
        (G("Y...Y.."), lambda f, o: ("/roles", None, None), True),
        (ROLE_READ_ONE, lambda f, o: ("/roles", None, {"person": f.id[o]}), True)],
    ("POST", "/roles"): [
        # from a far day, so that the grant to "own" does not give the self
        # actor a role for the rows after this one
        (ROLE_ADMIN, lambda f, o: ("/roles", {"person": f.id[o], "role": "helpdesk",
                                              "valid_from": "2099-01-01"}, None), False)],
    ("POST", "/roles/{id}/revoke"): [
        (G("Y......"), lambda f, o: (f"/roles/{f.grant}/revoke", None, None), False)],
    ("GET", "/error-reports"): [
        (G("YY.Y.Y."), lambda f, o: ("/error-reports", None, None), True),
        (PERSON_READ, lambda f, o: ("/error-reports", None, {"person": f.id[o]}), True)],
    ("POST", "/persons/{id}/error-reports"): [
        (ERROR_REPORT, lambda f, o: (f"/persons/{f.id[o]}/error-reports",
                                     {"attribute": "email", "description": "misspelt"}, None),
         False)],
    ("POST", "/error-reports/{id}/close"): [
        (PERSON_WRITE, lambda f, o: (f"/error-reports/{f.report[o]}/close",
                                     {"outcome": "resolved", "resolution": "corrected"}, None),
         False)],
    ("GET", "/units"): [(G("YYYYYY."), lambda f, o: ("/units", None, None), True)],
}


# ---- the fixture -------------------------------------------------------------

class Fixture:
    def __init__(self, t):
        self.t = t
        self.id, self.user, self.report = {}, {}, {}
        self.n = 0

    def phone(self):
        self.n += 1
        return f"+35840{self.n:07d}"

    def given(self, o):
        self.n += 1
        return {"own": "Aktor", "in": "Ilona", "out": "Ulla"}[o] + (" Maria" if self.n % 2 else "")

    def fresh_aff(self, o):
        """A throwaway affiliation, made by the operator, to end."""
        a = self.t.json("affiliation", "add", f"id:{self.id[o]}", "--kind", "guest",
                        "--org-unit", "other", "--from", "2024-01-01")
        return a["id"]


def start_server(t, http_extra=""):
    conf = t.dir / "tunnus.conf"
    conf.write_text("[ldap]\nidle_timeout = 30\n[http]\n" + http_extra)
    proc = subprocess.Popen([BIN, "--db", str(t.db), "--config", str(conf), "serve", "--port", "0",
                             "--http-port", "0"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([proc.stderr], [], [], 10)
    assert ready, "server did not start"
    lines = [proc.stderr.readline(), proc.stderr.readline()]
    m = re.search(r"http listening on 127\.0\.0\.1:(\d+)", lines[1])
    assert m, lines
    return proc, f"http://127.0.0.1:{m.group(1)}"


@pytest.fixture
def world(tunnus):
    t = tunnus
    f = Fixture(t)
    for code, parent in (("city", None), ("city/north", "city"), ("city/south", "city"),
                         ("other", None)):
        t.run("orgunit", "add", code, "--name", code, *(["--parent", parent] if parent else []))
    people = {"own": ("Aktor", "Testinen", "050505", "city/south", "aktor"),
              "in": ("Ilona", "Sisänen", "010180", "city/north", "ilona"),
              "out": ("Ulla", "Ulkonen", "020290", "city/south", "ulla")}
    for i, (o, (given, family, born, unit, user)) in enumerate(people.items()):
        p = t.json("person", "add", "--given", given, "--family", family,
                   "--national-id", hetu(born, "-", 940 + i), "--kind", "staff",
                   "--from", "2000-01-01", "--org-unit", unit, "--username", user)
        f.id[o], f.user[o] = p["id"], user
        t.run("account", "passwd", user, input=PASSWORD + "\n")
        r = t.json("person", "report-error", f"id:{p['id']}", "--attribute", "phone",
                   "--description", "old number")
        f.report[o] = r["id"]
    pol = t.dir / "policy.json"
    pol.write_text(json.dumps(POLICY))
    t.run("policy", "apply", pol)
    # Ilona's names and birth date from another source, without a national
    # ID: the row waits in the review queue.
    feed = t.dir / "sis.csv"
    feed.write_text("source_key,given_names,family_name,birth_date,valid_from\n"
                    "S1,Ilona,Sisänen,1980-01-01,2020-01-01\n")
    t.run("import", "--source", "sis", "--kind", "student", feed)
    f.review = json.loads(t.run("--json", "import", "review", "list").stdout.splitlines()[0])["id"]
    f.grant = t.json("role", "grant", f"id:{f.id['out']}", "auditor")["id"]
    f.auth = {}
    for role in ACTORS[:-1]:
        extra = ["--unit", "city/north"] if role == "unit_admin" else []
        tok = t.json("client", "add", f"c-{role.replace('_', '-')}", "--role", role, *extra)["token"]
        f.auth[role] = {"headers": {"Authorization": f"Bearer {tok}"}}
    f.auth["self"] = {"auth": (f.user["own"], PASSWORD)}
    proc, f.base = start_server(t)
    yield f
    proc.terminate()
    check_server_stop(proc, proc.wait(timeout=20))


def call(f, actor, method, path, body, params):
    kw = dict(f.auth[actor])
    if body is not None:
        kw["json"] = body
    return requests.request(method, f.base + API + path, params=params, timeout=30, **kw)


def test_every_route_has_rows(world):
    doc = requests.get(world.base + "/openapi.json", timeout=10).json()
    served = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    missing = served - set(ROWS)
    stale = set(ROWS) - served
    assert not missing, f"routes without access-matrix rows: {sorted(missing)}"
    assert not stale, f"rows for routes the server does not have: {sorted(stale)}"


def test_route_access_matrix(world):
    f = world
    wrong, cells = [], 0
    for (method, pattern), cases in ROWS.items():
        for expect, build, read in cases:
            for obj, marks in expect.items():
                assert len(marks) == len(ACTORS), (method, pattern)
                for actor, mark in zip(ACTORS, marks):
                    path, body, params = build(f, obj)
                    r = call(f, actor, method, path, body, params)
                    cells += 1
                    want = mark == "Y"
                    if want:
                        good = r.status_code not in (401, 403, 405) and r.status_code < 500
                        if read:
                            good = good and r.status_code == 200
                    else:
                        good = r.status_code == 403 and r.json()["status"] == 403
                        if good:
                            # the denial is on record under this request's id
                            rid = r.headers["X-Request-Id"]
                            good = f.t.sql("SELECT count(*) FROM audit_event WHERE request_id = ? "
                                           "AND result = 'denied'", rid)[0][0] >= 1
                    if not good:
                        wrong.append(f"{method} {pattern} by {actor} on {obj}: expected "
                                     f"{'allow' if want else 'deny'}, got {r.status_code} "
                                     f"{r.text[:160]}")
    assert not wrong, f"{len(wrong)} of {cells} cells wrong:\n" + "\n".join(wrong)
    assert cells > 400
