"""`tunnus serve`: who may bind and how often (SEC-5, AN-2). Failed binds
throttled per source address (a leaky bucket that a success does not
empty; counted on /metrics, audited when a wait begins), API clients binding as `cn=NAME,ou=services,BASE` with their token
under their own expiry, revocation, role and source-address allowlist, and
the configured application account's `service_allow`. Real ldap-utils
against a server on a free loopback port."""
import base64
import hashlib
import re
import subprocess
import time

import ldap3
import requests

from conftest import check_server_stop, BIN
from test_ldap import BASE, PEOPLE, PW, dn, registry

SERVICES = "ou=services," + BASE


class Serve:
    """tunnus serve with LDAP and HTTP on free ports."""

    def __init__(self, t, ldap_extra=""):
        conf = t.dir / "tunnus.conf"
        conf.write_text(f"[ldap]\nbase = {BASE}\nidle_timeout = 30\n{ldap_extra}"
                        "[http]\nport = 0\n")
        self.proc = subprocess.Popen(
            [BIN, "--db", str(t.db), "--config", str(conf), "serve", "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.ldap = self.http = None
        while self.ldap is None or self.http is None:
            line = self.proc.stderr.readline()
            assert line, "the server ended before listening"
            m = re.search(r"(ldap|http) listening on 127\.0\.0\.1:(\d+)", line)
            if m and m.group(1) == "ldap":
                self.ldap = f"ldap://127.0.0.1:{m.group(2)}"
            elif m:
                self.http = f"http://127.0.0.1:{m.group(2)}"

    def bind(self, who, password, prog="ldapwhoami", *args):
        return subprocess.run([prog, "-x", "-H", self.ldap, "-D", who, "-w", password, *args],
                              capture_output=True, text=True, timeout=30)

    def quick_bind(self, who, password):
        """A bind from this process (no program to start: the waits under
        test are 1-2 s). Returns (result code, diagnostic message)."""
        c = ldap3.Connection(ldap3.Server(self.ldap, get_info=ldap3.NONE), user=who,
                             password=password, raise_exceptions=False)
        c.bind()
        r = (c.result["result"], c.result["message"])
        c.unbind()
        return r

    def metric(self, name):
        text = requests.get(self.http + "/metrics", timeout=5).text
        m = re.search(rf"^{name} (\d+)$", text, re.M)
        assert m, name
        return int(m.group(1))

    def stop(self):
        self.proc.terminate()
        check_server_stop(self.proc, self.proc.wait(timeout=20))


def test_failed_binds_from_one_address_make_it_wait(tunnus):
    registry(tunnus)
    # No account lockout: what stops the guessing here is the address's wait.
    s = Serve(tunnus, "source_max_failures = 3\nbind_max_failures = 0\nbind_lockout = 60\n")
    try:
        for uid in ("maija", "teppo", "olli"):
            assert s.bind(dn(uid), "wrong").returncode == 49
        # The third failure began a wait of 1 s: even the right password is
        # refused unchecked, with a reason the client can show.
        code, msg = s.quick_bind(dn("maija"), PW["maija"])
        assert code == 49 and "too many failed binds from this address" in msg
        assert s.metric("tunnus_ldap_binds_refused_total") >= 1
        assert s.metric("tunnus_ldap_sources_throttled_total") == 1
        assert s.metric("tunnus_ldap_bind_failures_total") == 3
        rows = tunnus.sql("SELECT result, detail FROM audit_event WHERE action = 'dir.bind' "
                          "AND detail LIKE 'source address throttled%'")
        assert rows == [("failed", "source address throttled after repeated failed binds")]
        # Once the wait is over the right password works, but forgives
        # nothing (one identity's success says nothing about guesses at
        # others): the next failure makes the address wait 2 s.
        time.sleep(1.2)
        assert s.bind(dn("maija"), PW["maija"]).returncode == 0
        assert s.metric("tunnus_ldap_binds_total") == 1
        assert s.quick_bind(dn("teppo"), "wrong")[0] == 49
        time.sleep(1.2)
        code, msg = s.quick_bind(dn("teppo"), PW["teppo"])
        assert code == 49 and "try again in 1 s" in msg
        time.sleep(1.0)
        assert s.quick_bind(dn("teppo"), PW["teppo"])[0] == 0
        assert s.metric("tunnus_ldap_sources_throttled_total") == 2
    finally:
        s.stop()


def client(t, name, role, *extra):
    out = t.json("client", "add", name, "--role", role, *extra)
    return out["token"]


def test_api_clients_bind_as_service_accounts(tunnus):
    registry(tunnus)
    app = client(tunnus, "mailhost", "helpdesk", "--allow", "127.0.0.0/8")
    other = client(tunnus, "printer", "helpdesk")
    far = client(tunnus, "faraway", "helpdesk", "--allow", "192.0.2.0/24")
    auditor = client(tunnus, "report", "auditor")
    s = Serve(tunnus)
    try:
        me = f"cn=mailhost,{SERVICES}"
        p = s.bind(me, app)
        assert p.returncode == 0 and p.stdout.strip() == "dn:" + me
        p = s.bind(me, app, "ldapsearch", "-LLL", "-b", PEOPLE, "(uid=teppo)", "cn")
        assert p.returncode == 0 and "cn: Teppo Testaaja" in p.stdout
        # Every entry shown is on record as read by this client.
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE actor_id = 'mailhost' AND "
                          "action = 'dir.read'")[0][0] == 1
        # Another client's token under this name, a wrong token, a client
        # outside its allowlist, one that was revoked: all plain failures.
        assert s.bind(me, other).returncode == 49
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE actor_id = 'mailhost' AND "
                          "detail = 'the token belongs to another client'")[0][0] == 1
        assert s.bind(me, "tnk_" + "A" * 43).returncode == 49
        assert s.bind(f"cn=faraway,{SERVICES}", far).returncode == 49
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'client.auth' AND "
                          "detail = 'source address not allowed'")[0][0] == 1
        tunnus.run("client", "revoke", "printer")
        assert s.bind(f"cn=printer,{SERVICES}", other).returncode == 49
        # A role that may not list persons binds but may not search people.
        r = f"cn=report,{SERVICES}"
        assert s.bind(r, auditor).returncode == 0
        p = s.bind(r, auditor, "ldapsearch", "-LLL", "-b", PEOPLE, "(uid=teppo)", "cn")
        assert p.returncode == 50, p.stderr
    finally:
        s.stop()


def test_service_account_allowlist(tunnus):
    registry(tunnus)
    salt = b"saltsalt"
    pw_hash = "{SSHA}" + base64.b64encode(hashlib.sha1(b"Palvelu-1" + salt).digest()
                                          + salt).decode()
    svc = f"cn=app,{BASE}"
    s = Serve(tunnus, f"service_dn = {svc}\nservice_password_hash = {pw_hash}\n"
                      "service_allow = 192.0.2.0/24, 2001:db8::/32\n")
    try:
        assert s.bind(svc, "Palvelu-1").returncode == 49
        assert tunnus.sql("SELECT count(*) FROM audit_event WHERE action = 'dir.bind' AND "
                          "detail = 'source address not allowed (service_allow)'")[0][0] == 1
    finally:
        s.stop()
    s = Serve(tunnus, f"service_dn = {svc}\nservice_password_hash = {pw_hash}\n"
                      "service_allow = 192.0.2.0/24, 127.0.0.1\n")
    try:
        assert s.bind(svc, "Palvelu-1").returncode == 0
    finally:
        s.stop()
    # A malformed list stops the server at start, naming the entry.
    conf = tunnus.dir / "tunnus.conf"
    conf.write_text(f"[ldap]\nbase = {BASE}\nservice_allow = 10.0.0.0/33\n")
    p = subprocess.run([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve", "--port", "0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and '"10.0.0.0/33" is not an address or CIDR' in p.stderr
