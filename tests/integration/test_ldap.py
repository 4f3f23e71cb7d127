"""`tunnus serve`: the LDAP directory with real clients (ldap-utils and
python3-ldap3) against a registry made with the CLI. Every test starts its
own server on a free loopback port and stops it."""
import base64
import hashlib
import os
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

import ldap3
import pytest

from conftest import check_server_stop, BIN

ROOT = Path(__file__).resolve().parents[2]
BASE = "dc=example,dc=fi"
PEOPLE = "ou=people," + BASE
PW = {"maija": "Kissa-123", "teppo": "Koira-456", "olli": "Lintu-789"}


def dn(uid):
    return f"uid={uid},{PEOPLE}"


class Server:
    def __init__(self, t, extra=""):
        self.t = t
        self.conf = t.dir / "tunnus.conf"
        idle = "" if "idle_timeout" in extra else "idle_timeout = 30\n"
        self.conf.write_text(f"[ldap]\nbase = {BASE}\n{idle}{extra}")
        self.proc = subprocess.Popen(
            [BIN, "--db", str(t.db), "--config", str(self.conf), "serve", "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stderr], [], [], 10)
        assert ready, "server did not start"
        line = self.proc.stderr.readline()
        assert "listening on 127.0.0.1:" in line, line
        self.port = int(line.split("127.0.0.1:")[1].split()[0])
        self.url = f"ldap://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        check_server_stop(self.proc, rc)

    def tool(self, prog, *args, bind=None, input=None):
        cmd = [prog, "-x", "-H", self.url]
        if bind:
            cmd += ["-D", dn(bind), "-w", PW[bind]]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30,
                              input=input)

    def search(self, *args, bind="maija"):
        return self.tool("ldapsearch", "-LLL", *args, bind=bind)

    def conn(self, uid="maija", password=None):
        c = ldap3.Connection(ldap3.Server(self.url, get_info=ldap3.NONE), user=dn(uid),
                             password=password or PW[uid], raise_exceptions=False)
        return c


def registry(t):
    t.run("orgunit", "add", "HR", "--name", "Henkilöstö")
    t.run("orgunit", "add", "IT", "--name", "Tietohallinto")
    t.run("person", "add", "--given", "Maija Liisa", "--family", "Meikäläinen",
          "--birth-date", "1990-01-01", "--kind", "staff", "--from", "2020-01-01",
          "--org-unit", "HR", "--title", "Kirjuri", "--username", "maija",
          "--phone", "040 123 4567", "--language", "fi")
    t.run("person", "add", "--given", "Teppo", "--family", "Testaaja",
          "--birth-date", "1985-05-05", "--kind", "student", "--from", "2021-08-01",
          "--org-unit", "IT", "--username", "teppo")
    t.run("person", "add", "--given", "Olli", "--family", "Opiskelija",
          "--birth-date", "2001-03-03", "--kind", "student", "--from", "2022-08-01",
          "--username", "olli")
    for uid, pw in PW.items():
        t.run("account", "passwd", uid, input=pw + "\n")


@pytest.fixture
def srv(tunnus):
    registry(tunnus)
    s = Server(tunnus)
    yield s
    s.stop()


def entries(out):
    return [line[4:] for line in out.splitlines() if line.startswith("dn: ")]


def audit(t, action, result=None):
    q = "SELECT count(*) FROM audit_event WHERE action = ?"
    args = [action]
    if result:
        q += " AND result = ?"
        args.append(result)
    return t.sql(q, *args)[0][0]


# ---- binds ------------------------------------------------------------------

def test_bind_good_and_bad(srv, tunnus):
    p = srv.tool("ldapwhoami", bind="maija")
    assert p.returncode == 0 and p.stdout.strip() == "dn:" + dn("maija")
    p = srv.tool("ldapwhoami", "-D", dn("maija"), "-w", "wrong")
    assert p.returncode == 49
    p = srv.tool("ldapwhoami", "-D", dn("nobody"), "-w", "x")
    assert p.returncode == 49
    # Anonymous WhoAmI answers the empty identity.
    p = srv.tool("ldapwhoami")
    assert p.returncode == 0 and p.stdout.strip() == "anonymous"
    # A DN without a password is an unauthenticated bind: refused.
    got = raw(srv.port, msg(1, tlv(0x60, tlv(0x02, b"\x03") + tlv(0x04, dn("maija").encode())
                                    + tlv(0x80, b""))) + msg(2, tlv(0x42, b"")))
    assert got.startswith(b"\x30") and b"\x61" in got and b"\x0a\x01\x35" in got  # 53
    assert audit(tunnus, "dir.bind", "failed") == 2
    assert audit(tunnus, "dir.bind", "allowed") >= 1
    details = tunnus.sql("SELECT detail FROM audit_event WHERE action = 'dir.bind' "
                         "AND result = 'failed' ORDER BY seq")
    assert [d[0] for d in details] == ["wrong password", "unknown account"]
    # No password, in any form, in the audit trail.
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE detail LIKE '%Kissa%' "
                      "OR changes LIKE '%Kissa%'")[0][0] == 0


def test_lockout_after_failures(tunnus):
    registry(tunnus)
    s = Server(tunnus, "bind_max_failures = 3\nbind_lockout = 600\n")
    try:
        for _ in range(3):
            assert s.tool("ldapwhoami", "-D", dn("teppo"), "-w", "bad").returncode == 49
        # Locked: the right password fails too, and says nothing more.
        p = s.tool("ldapwhoami", bind="teppo")
        assert p.returncode == 49
        # The refused attempt counts too (and extends the lockout).
        assert tunnus.sql("SELECT failures FROM dir_bind_fail")[0][0] == 4
        assert "locked" in tunnus.sql("SELECT detail FROM audit_event WHERE action = 'dir.bind'"
                                      " ORDER BY seq DESC LIMIT 1")[0][0]
        # Another account is unaffected.
        assert s.tool("ldapwhoami", bind="maija").returncode == 0
    finally:
        s.stop()


def test_success_clears_failure_count(srv, tunnus):
    assert srv.tool("ldapwhoami", "-D", dn("olli"), "-w", "bad").returncode == 49
    assert tunnus.sql("SELECT count(*) FROM dir_bind_fail")[0][0] == 1
    assert srv.tool("ldapwhoami", bind="olli").returncode == 0
    assert tunnus.sql("SELECT count(*) FROM dir_bind_fail")[0][0] == 0


def test_migrated_ssha_and_service_account(tunnus):
    registry(tunnus)
    salt = b"saltsalt"
    ssha = "{SSHA}" + base64.b64encode(hashlib.sha1(b"app-secret" + salt).digest() + salt).decode()
    ssha512 = "{SSHA512}" + base64.b64encode(
        hashlib.sha512(b"app-secret" + salt).digest() + salt).decode()
    for h in (ssha, ssha512):
        s = Server(tunnus, f"service_dn = cn=App, {BASE}\nservice_password_hash = {h}\n")
        try:
            p = subprocess.run(["ldapwhoami", "-x", "-H", s.url, "-D", f"cn=app,{BASE}",
                                "-w", "app-secret"], capture_output=True, text=True)
            assert p.returncode == 0 and p.stdout.strip() == f"dn:cn=App, {BASE}"
            p = subprocess.run(["ldapwhoami", "-x", "-H", s.url, "-D", f"cn=app,{BASE}",
                                "-w", "app-secreT"], capture_output=True, text=True)
            assert p.returncode == 49
            p = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", s.url, "-D", f"cn=app,{BASE}",
                                "-w", "app-secret", "-b", PEOPLE, "(uid=teppo)", "uid"],
                               capture_output=True, text=True)
            assert p.returncode == 0 and entries(p.stdout) == [dn("teppo")]
        finally:
            s.stop()


# ---- search -------------------------------------------------------------------

def test_search_by_uid_attribute_selection(srv, tunnus):
    c = srv.conn()
    assert c.bind()
    assert c.search(PEOPLE, "(uid=teppo)", attributes=["cn", "mail", "employeeNumber"])
    assert len(c.entries) == 1
    e = c.entries[0]
    assert e.entry_dn == dn("teppo")
    # Only what was asked for and exists: no mail without a configured domain.
    p = srv.search("-b", PEOPLE, "(uid=teppo)", "cn", "mail", "employeeNumber")
    names = {line.split(":")[0] for line in p.stdout.splitlines()[1:] if line}
    assert names == {"cn", "employeeNumber"}
    assert "Teppo Testaaja" in e.cn.values
    # Every user attribute, and operational ones with "+": never userPassword.
    assert c.search(PEOPLE, "(uid=maija)", attributes=["*", "+"])
    a = c.entries[0].entry_attributes_as_dict
    for name in ("objectClass", "uid", "sn", "givenName", "displayName", "telephoneNumber",
                 "title", "ou", "uidNumber", "gidNumber", "homeDirectory",
                 "eduPersonAffiliation", "eduPersonPrincipalName", "entryUUID"):
        assert name in a, name
    assert "userPassword" not in a
    assert {"inetOrgPerson", "eduPerson", "posixAccount"} <= set(a["objectClass"])
    assert a["telephoneNumber"] == ["+358401234567"]
    assert a["title"] == ["Kirjuri"] and a["ou"] == ["HR"]
    assert a["preferredLanguage"] == ["fi"]
    assert a["eduPersonPrincipalName"] == ["maija@example.fi"]
    assert "staff" in a["eduPersonAffiliation"]
    # Asking for userPassword by name returns nothing either.
    p = srv.search("-b", PEOPLE, "(uid=maija)", "userPassword")
    assert p.returncode == 0 and p.stdout.strip() == "dn: " + dn("maija")
    # "1.1": names only.
    p = srv.search("-b", PEOPLE, "(uid=olli)", "1.1")
    assert p.returncode == 0 and p.stdout.strip() == "dn: " + dn("olli")
    # typesOnly
    p = srv.search("-A", "-b", PEOPLE, "(uid=olli)", "sn")
    assert p.returncode == 0 and "sn:" in p.stdout and "Opiskelija" not in p.stdout
    c.unbind()
    # Reads are audited, per entry shown, with what was asked for.
    rows = tunnus.sql("SELECT attrs FROM audit_event WHERE action = 'dir.read' "
                      "AND actor_kind = 'person' AND channel = 'ldap'")
    assert ("cn,mail,employeeNumber",) in rows


def test_uid_numbers_unique_and_stable(srv, tunnus):
    p = srv.search("-b", PEOPLE, "(objectClass=posixAccount)", "uidNumber")
    nums = [int(line.split()[1]) for line in p.stdout.splitlines()
            if line.startswith("uidNumber:")]
    assert len(nums) == 3 and len(set(nums)) == 3 and min(nums) >= 10000
    assert tunnus.sql("SELECT count(*) FROM dir_posix")[0][0] == 3
    # A new account gets the next number; existing ones keep theirs.
    tunnus.run("person", "add", "--given", "Uusi", "--family", "Ihminen", "--birth-date",
               "1999-09-09", "--username", "uusi")
    p2 = srv.search("-b", PEOPLE, "(objectClass=posixAccount)", "uidNumber")
    nums2 = [int(line.split()[1]) for line in p2.stdout.splitlines()
             if line.startswith("uidNumber:")]
    assert set(nums) < set(nums2) and max(nums2) == max(nums) + 1


@pytest.mark.parametrize("flt,want", [
    ("(uid=MAIJA)", ["maija"]),
    ("(sn=meikäläinen)", ["maija"]),
    ("(cn=*esta*)", ["teppo"]),
    ("(cn=Teppo*)", ["teppo"]),
    ("(sn=*ja)", ["teppo", "olli"]),
    ("(sn=*k*l*n)", ["maija"]),
    ("(telephoneNumber=+358 40 123 4567)", ["maija"]),
    ("(telephoneNumber=*)", ["maija"]),
    ("(!(telephoneNumber=*))", ["teppo", "olli"]),
    ("(|(uid=teppo)(uid=olli))", ["teppo", "olli"]),
    ("(&(eduPersonAffiliation=student)(ou=IT))", ["teppo"]),
    ("(&(objectClass=inetOrgPerson)(!(uid=teppo)))", ["maija", "olli"]),
    ("(sn~=opiskelija)", ["olli"]),
    ("(uidNumber>=10001)", ["teppo", "olli"]),
    ("(uidNumber<=10000)", ["maija"]),
    ("(nosuchattr=x)", []),
    ("(!(nosuchattr=x))", []),
    ("(uid:caseExactMatch:=maija)", []),
    ("(&)", ["maija", "teppo", "olli"]),
    ("(|)", []),
])
def test_filters(srv, flt, want):
    p = srv.search("-b", PEOPLE, "-s", "one", flt, "1.1")
    assert p.returncode == 0, p.stderr
    assert sorted(entries(p.stdout)) == sorted(dn(u) for u in want)


def test_scopes(srv):
    def names(*args):
        p = srv.search(*args, "(objectClass=*)", "1.1")
        assert p.returncode == 0, p.stderr
        return sorted(entries(p.stdout))
    assert names("-b", BASE, "-s", "base") == [BASE]
    groups = "ou=groups," + BASE
    assert names("-b", BASE, "-s", "one") == sorted([PEOPLE, groups])
    assert names("-b", BASE, "-s", "sub") == sorted(
        [BASE, PEOPLE, groups] + [dn(u) for u in PW] +
        [f"cn={g},{groups}" for g in ("staff", "student", "unit-hr", "unit-it")])
    assert names("-b", PEOPLE, "-s", "base") == [PEOPLE]
    assert names("-b", PEOPLE, "-s", "one") == sorted(dn(u) for u in PW)
    assert names("-b", dn("teppo"), "-s", "base") == [dn("teppo")]
    assert names("-b", dn("teppo"), "-s", "one") == []
    p = srv.search("-b", dn("ghost"), "-s", "base", "(objectClass=*)")
    assert p.returncode == 32
    p = srv.search("-b", "ou=elsewhere," + BASE, "(objectClass=*)")
    assert p.returncode == 32
    p = srv.search("-b", "dc=other", "(objectClass=*)")
    assert p.returncode == 32


def test_size_limit(srv):
    p = srv.search("-z", "2", "-b", PEOPLE, "-s", "one", "(objectClass=*)", "1.1")
    assert p.returncode == 4
    assert len(entries(p.stdout)) == 2


def test_server_size_limit(tunnus):
    registry(tunnus)
    s = Server(tunnus, "size_limit = 1\n")
    try:
        p = s.search("-b", PEOPLE, "-s", "one", "(objectClass=*)", "1.1")
        assert p.returncode == 4 and len(entries(p.stdout)) == 1
        assert s.search("-b", PEOPLE, "(uid=olli)", "1.1").returncode == 0
    finally:
        s.stop()


def test_anonymous_search(srv, tunnus):
    p = srv.search("-b", PEOPLE, "(uid=maija)", bind=None)
    assert p.returncode == 50
    assert audit(tunnus, "dir.search", "denied") == 1
    # The root DSE and the schema are readable before binding.
    p = srv.search("-b", "", "-s", "base", "(objectClass=*)", "+", bind=None)
    assert p.returncode == 0
    assert f"namingContexts: {BASE}" in p.stdout
    assert "supportedLDAPVersion: 3" in p.stdout
    assert "supportedExtension: 1.3.6.1.4.1.4203.1.11.3" in p.stdout
    p = srv.search("-b", "cn=Subschema", "-s", "base", "(objectClass=*)", "objectClasses",
                   bind=None)
    assert p.returncode == 0 and "inetOrgPerson" in p.stdout


def test_anonymous_search_when_configured(tunnus):
    registry(tunnus)
    s = Server(tunnus, "anonymous_search = true\n")
    try:
        p = s.search("-b", PEOPLE, "(uid=maija)", "uid", bind=None)
        assert p.returncode == 0 and entries(p.stdout) == [dn("maija")]
    finally:
        s.stop()


def test_closed_accounts_are_invisible(tunnus):
    registry(tunnus)
    tunnus.run("person", "add", "--given", "Entinen", "--family", "Työntekijä",
               "--birth-date", "1970-01-01", "--kind", "staff", "--from", "2010-01-01",
               "--to", "2011-01-01", "--username", "entinen")
    tunnus.run("account", "passwd", "entinen", input="Vanha-111\n")
    tunnus.run("policy", "apply", ROOT / "examples" / "policies" / "university-001.json")
    tunnus.run("lifecycle", "run")
    assert tunnus.sql("SELECT state FROM account WHERE username = 'entinen'")[0][0] \
        not in ("active", "grace")
    s = Server(tunnus)
    try:
        assert s.search("-b", PEOPLE, "(uid=entinen)", "1.1").stdout.strip() == ""
        assert s.search("-b", dn("entinen"), "-s", "base", "(objectClass=*)").returncode == 32
        p = s.search("-b", PEOPLE, "-s", "one", "(objectClass=*)", "1.1")
        assert dn("entinen") not in entries(p.stdout) and len(entries(p.stdout)) == 3
        p = subprocess.run(["ldapwhoami", "-x", "-H", s.url, "-D", dn("entinen"), "-w",
                            "Vanha-111"], capture_output=True, text=True)
        assert p.returncode == 49
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'dir.bind' AND "
                          "detail = 'account not active'")[0][0] == 1
    finally:
        s.stop()


# ---- other operations ----------------------------------------------------------

def test_compare(srv):
    p = srv.tool("ldapcompare", dn("maija"), "title:kirjuri", bind="teppo")
    assert p.returncode == 6 and "TRUE" in p.stdout
    p = srv.tool("ldapcompare", dn("maija"), "title:Johtaja", bind="teppo")
    assert p.returncode == 5 and "FALSE" in p.stdout
    p = srv.tool("ldapcompare", dn("maija"), "userPassword:Kissa-123", bind="teppo")
    assert p.returncode == 17
    p = srv.tool("ldapcompare", dn("ghost"), "title:x", bind="teppo")
    assert p.returncode == 32


def test_critical_controls(srv):
    p = srv.search("-e", "!1.2.3.4.5", "-b", PEOPLE, "(uid=maija)", "1.1")
    assert p.returncode == 12
    # A non-critical unknown control is ignored; ManageDsaIT is honoured.
    assert srv.search("-e", "1.2.3.4.5", "-b", PEOPLE, "(uid=maija)", "1.1").returncode == 0
    assert srv.search("-M", "-b", PEOPLE, "(uid=maija)", "1.1").returncode == 0
    # StartTLS is not offered yet: the server says so and stays up.
    assert srv.tool("ldapwhoami", "-ZZ", bind="maija").returncode != 0
    assert srv.tool("ldapwhoami", bind="maija").returncode == 0


def test_filter_depth_cap(srv):
    c = srv.conn()
    assert c.bind()
    deep = "(!" * 40 + "(uid=maija)" + ")" * 40
    c.search(PEOPLE, deep, attributes=["uid"])
    assert c.result["result"] == 53
    ok = "(!" * 10 + "(uid=maija)" + ")" * 10
    assert c.search(PEOPLE, ok, attributes=["uid"]) and len(c.entries) == 1
    c.unbind()


# ---- bad input ------------------------------------------------------------------

def tlv(tag, content):
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    return bytes([tag, 0x82]) + n.to_bytes(2, "big") + content


def msg(msgid, op):
    return tlv(0x30, tlv(0x02, bytes([msgid])) + op)


def raw(port, data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        if not read:
            return b""
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return got
            got += chunk
    finally:
        s.close()


NOTICE = b"1.3.6.1.4.1.1466.20036"


@pytest.mark.parametrize("data", [
    b"garbage bytes \x00\x01\x02\xff",
    b"\x30\x84\x7f\xff\xff\xff",                # a length beyond the PDU cap
    b"\x30\x80\x02\x01\x01\x00\x00",            # indefinite length
    b"\x30\x03\x02\x05\x01",                    # truncated inner element
    b"\x30\x05\x02\x01\x01\x42\x01",            # length mismatch
    b"\x30\x06\x02\x01\x01\x7f\x01\x00",        # unknown operation
    b"\x30\x05\x02\x01\x01\x63\x00",            # empty search request
])
def test_malformed_input_keeps_server_up(srv, data):
    got = raw(srv.port, data)
    # Either a Notice of Disconnection or a protocolError result; never silence
    # followed by a hang, and the server answers the next client.
    assert NOTICE in got or b"\x0a\x01\x02" in got
    assert srv.alive()
    assert srv.tool("ldapwhoami", bind="maija").returncode == 0


def test_oversized_pdu_closes_connection(tunnus):
    registry(tunnus)
    s = Server(tunnus, "max_pdu = 2048\n")
    try:
        # A bind with a 4 KiB name: over the cap, refused before it is read.
        name = b"x" * 4096
        body = b"\x02\x01\x01" + b"\x60\x82" + (len(name) + 9).to_bytes(2, "big") + \
            b"\x02\x01\x03" + b"\x04\x82" + len(name).to_bytes(2, "big") + name + b"\x80\x00"
        pdu = b"\x30\x82" + len(body).to_bytes(2, "big") + body
        got = raw(s.port, pdu)
        assert NOTICE in got
        assert s.alive()
        assert s.tool("ldapwhoami", bind="maija").returncode == 0
    finally:
        s.stop()


def test_garbage_in_one_connection_leaves_others_alone(srv):
    c = srv.conn()
    assert c.bind()
    raw(srv.port, os.urandom(64) + b"\x30\x84\xff\xff\xff\xff")
    assert c.search(PEOPLE, "(uid=teppo)", attributes=["uid"]) and len(c.entries) == 1
    c.unbind()


def test_idle_timeout(tunnus):
    registry(tunnus)
    s = Server(tunnus, "idle_timeout = 1\n")
    try:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        t0 = time.monotonic()
        got = sock.recv(4096)
        sock.close()
        assert NOTICE in got and time.monotonic() - t0 < 4
    finally:
        s.stop()


def test_connection_cap(tunnus):
    registry(tunnus)
    s = Server(tunnus, "max_connections = 2\n")
    try:
        a = socket.create_connection(("127.0.0.1", s.port))
        b = socket.create_connection(("127.0.0.1", s.port))
        time.sleep(0.2)
        third = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        got = third.recv(4096)
        third.close()
        assert NOTICE in got
        a.close()
        b.close()
        time.sleep(0.3)
        assert s.tool("ldapwhoami", bind="maija").returncode == 0
    finally:
        s.stop()


def test_account_passwd_cli(tunnus):
    registry(tunnus)
    h = tunnus.sql("SELECT password_hash FROM account WHERE username = 'maija'")[0][0]
    assert h.startswith("$argon2id$")
    assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'account.password'")[0][0] == 3
    p = tunnus.run("account", "passwd", "ghost", input="x\n", check=False)
    assert p.returncode == 4
    p = tunnus.run("account", "passwd", "maija", input="\n", check=False)
    assert p.returncode == 3
    # A person selector finds their account.
    tunnus.run("account", "passwd", "username:teppo", input="Uusi-000\n")
    assert tunnus.sql("SELECT password_hash FROM account WHERE username = 'teppo'")[0][0] != h


def test_pipelined_requests_in_one_write(srv):
    whoami = tlv(0x77, tlv(0x80, b"1.3.6.1.4.1.4203.1.11.3"))
    bind = tlv(0x60, tlv(0x02, b"\x03") + tlv(0x04, dn("maija").encode())
               + tlv(0x80, PW["maija"].encode()))
    search = tlv(0x63, tlv(0x04, PEOPLE.encode()) + tlv(0x0a, b"\x01") + tlv(0x0a, b"\x00")
                 + tlv(0x02, b"\x00") + tlv(0x02, b"\x00") + tlv(0x01, b"\x00")
                 + tlv(0xa3, tlv(0x04, b"uid") + tlv(0x04, b"teppo"))
                 + tlv(0x30, tlv(0x04, b"cn")))
    data = msg(1, bind) + msg(2, whoami) + msg(3, search) + msg(4, search) + msg(5, tlv(0x42, b""))
    got = raw(srv.port, data)
    # bind, whoami, and entry + done twice, in order, all successful.
    assert got.count(b"\x0a\x01\x00") == 4
    assert got.count(dn("teppo").encode()) == 2
    assert b"dn:" + dn("maija").encode() in got


def test_migrated_user_hash(tunnus):
    registry(tunnus)
    salt = b"\x01\x02\x03\x04"
    h = "{SSHA}" + base64.b64encode(hashlib.sha1(b"pw-olli" + salt).digest() + salt).decode()
    tunnus.run("account", "passwd", "--hash", "olli", input=h + "\n")
    assert tunnus.sql("SELECT password_hash FROM account WHERE username = 'olli'")[0][0] == h
    p = tunnus.run("account", "passwd", "--hash", "olli", input="{MD5}abc\n", check=False)
    assert p.returncode == 3 and "password_hash" in p.stderr
    s = Server(tunnus)
    try:
        p = subprocess.run(["ldapwhoami", "-x", "-H", s.url, "-D", dn("olli"), "-w", "pw-olli"],
                           capture_output=True, text=True)
        assert p.returncode == 0
        p = subprocess.run(["ldapwhoami", "-x", "-H", s.url, "-D", dn("olli"), "-w", "pw-olle"],
                           capture_output=True, text=True)
        assert p.returncode == 49
    finally:
        s.stop()


def ber_int(n):
    b = n.to_bytes((n.bit_length() + 8) // 8, "big")  # a leading zero keeps it positive
    return tlv(0x02, b)


def threads(proc):
    return len(os.listdir(f"/proc/{proc.pid}/task"))


def test_client_that_does_not_read_stalls_no_one(tunnus):
    """One worker; a client pipelines thousands of searches and reads none of
    the answers. Its worker waits for it to read, another worker is started
    for everyone else, and it leaves again when the slow client is gone."""
    registry(tunnus)
    s = Server(tunnus, "workers = 1\n")
    try:
        assert s.tool("ldapwhoami", bind="maija").returncode == 0
        base_threads = threads(s.proc)
        bind = tlv(0x60, tlv(0x02, b"\x03") + tlv(0x04, dn("maija").encode())
                   + tlv(0x80, PW["maija"].encode()))
        search = tlv(0x63, tlv(0x04, dn("maija").encode()) + tlv(0x0a, b"\x00")
                     + tlv(0x0a, b"\x00") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00")
                     + tlv(0x01, b"\x00") + tlv(0x87, b"objectClass") + tlv(0x30, b""))
        data = tlv(0x30, ber_int(1) + bind) + b"".join(
            tlv(0x30, ber_int(i) + search) for i in range(2, 40002))
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", s.port))
        # The server stops reading once its answers back up, so the writes
        # block too: from a thread, which ends when the socket is closed.
        writer = threading.Thread(target=lambda: _send_quietly(slow, data), daemon=True)
        writer.start()
        # The answers back up: the only worker is now waiting on this client.
        deadline = time.monotonic() + 20
        while threads(s.proc) <= base_threads and time.monotonic() < deadline:
            time.sleep(0.1)
        assert threads(s.proc) > base_threads, "no worker was started for the others"
        # Everyone else is still served, well within the 30 s idle timeout.
        t0 = time.monotonic()
        p = s.search("-b", PEOPLE, "(uid=teppo)", "cn")
        assert p.returncode == 0 and dn("teppo") in p.stdout
        assert time.monotonic() - t0 < 10
        assert s.tool("ldapwhoami", bind="teppo").returncode == 0
        # The slow client goes: its worker's wait fails, the session ends,
        # and the extra worker leaves; the server keeps serving.
        slow.shutdown(socket.SHUT_RDWR)
        slow.close()
        deadline = time.monotonic() + 20
        while threads(s.proc) > base_threads and time.monotonic() < deadline:
            time.sleep(0.1)
        assert threads(s.proc) == base_threads
        assert s.search("-b", PEOPLE, "(uid=olli)", "cn").returncode == 0
    finally:
        s.stop()


def _send_quietly(sock, data):
    try:
        sock.sendall(data)
    except OSError:
        pass


def test_client_that_pipelines_without_pause_gets_turns(tunnus):
    """One worker; a client pipelines tens of thousands of searches and reads
    every answer. Others are served between its requests (a session gets a
    turn of a few requests), not after all of them."""
    registry(tunnus)
    s = Server(tunnus, "workers = 1\nanonymous_search = true\n")
    try:
        search = tlv(0x63, tlv(0x04, dn("maija").encode()) + tlv(0x0a, b"\x00")
                     + tlv(0x0a, b"\x00") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00")
                     + tlv(0x01, b"\x00") + tlv(0x87, b"objectClass")
                     + tlv(0x30, tlv(0x04, b"uid")))
        total = 30000
        data = b"".join(tlv(0x30, ber_int(i) + search) for i in range(1, total + 1))
        busy = socket.create_connection(("127.0.0.1", s.port))
        writer = threading.Thread(target=lambda: _send_quietly(busy, data), daemon=True)
        done = [0]

        def read():
            buf = b""
            while done[0] < total:
                chunk = busy.recv(65536)
                if not chunk:
                    return
                buf += chunk
                # Count SearchResultDone (0x65) with success, then drop
                # what was counted.
                done[0] += buf.count(b"\x65\x07\x0a\x01\x00\x04\x00\x04\x00")
                buf = buf[-8:]
        reader = threading.Thread(target=read, daemon=True)
        writer.start()
        reader.start()
        while done[0] < 2000:
            time.sleep(0.01)
        p = s.search("-b", PEOPLE, "(uid=teppo)", "cn", bind=None)
        at = done[0]
        assert p.returncode == 0 and dn("teppo") in p.stdout
        assert at < total, "the other client was served only after the pipelining one"
        reader.join(60)
        assert done[0] == total
        busy.close()
    finally:
        s.stop()


def test_stop_while_binds_are_checked(tunnus):
    """A stop while password checks run on extra workers (one base worker,
    six binds at once): every session ends and the server exits cleanly,
    the extra workers included (the stop waits for their threads)."""
    registry(tunnus)
    s = Server(tunnus, "workers = 1\n")
    try:
        base = threads(s.proc)
        binds = [subprocess.Popen(["ldapwhoami", "-x", "-H", s.url, "-D", dn(u), "-w", PW[u]],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for u in ("maija", "teppo", "olli") * 2]
        deadline = time.monotonic() + 10
        while threads(s.proc) <= base and time.monotonic() < deadline:
            time.sleep(0.005)
        assert threads(s.proc) > base, "the password checks started no worker"
    finally:
        s.stop()
    for p in binds:
        p.wait(30)
