"""`tunnus serve` beyond the core: StartTLS and LDAPS with a self-signed
certificate made by `openssl req -x509` (as the README demo does), the
Password Modify extended operation with ldappasswd, and the paged-results
control with ldapsearch and ldap3. Real clients against a fresh registry."""
import os
import select
import subprocess

import ldap3
import pytest

from conftest import check_server_stop, BIN
from test_ldap import BASE, PEOPLE, PW, audit, dn, entries, registry


def make_cert(d):
    key, cert = d / "tls.key", d / "tls.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


class TlsServer:
    def __init__(self, t, extra=""):
        self.t = t
        self.cert, key = make_cert(t.dir)
        conf = t.dir / "tunnus.conf"
        conf.write_text(f"[ldap]\nbase = {BASE}\nidle_timeout = 30\ntls_cert = {self.cert}\n"
                        f"tls_key = {key}\nldaps_port = 0\n{extra}")
        self.proc = subprocess.Popen(
            [BIN, "--db", str(t.db), "--config", str(conf), "serve", "--port", "0"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        ports = {}
        ready, _, _ = select.select([self.proc.stderr], [], [], 10)
        assert ready, "server did not start"
        # Both lines are written (and flushed) together; the second may
        # already sit in the reader's buffer, where select cannot see it.
        for _ in range(2):
            line = self.proc.stderr.readline()
            kind = "ldaps" if "ldaps listening" in line else "ldap"
            ports[kind] = int(line.split("127.0.0.1:")[1].split()[0])
        assert "ldap" in ports and "ldaps" in ports
        self.port, self.sport = ports["ldap"], ports["ldaps"]
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.surl = f"ldaps://127.0.0.1:{self.sport}"
        self.env = dict(os.environ, LDAPTLS_CACERT=str(self.cert))

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        check_server_stop(self.proc, rc)

    def tool(self, prog, *args, url=None, bind="maija", password=None, env=None):
        cmd = [prog, "-x", "-H", url or self.url]
        if bind:
            cmd += ["-D", dn(bind), "-w", password or PW[bind]]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=30,
                              env=env or self.env)


@pytest.fixture
def tls(tunnus):
    registry(tunnus)
    s = TlsServer(tunnus)
    yield s
    s.stop()


# ---- StartTLS and LDAPS -------------------------------------------------------

def test_starttls_and_ldaps_with_ldap_utils(tls):
    p = tls.tool("ldapwhoami", "-ZZ")
    assert p.returncode == 0 and p.stdout.strip() == "dn:" + dn("maija"), p.stderr
    p = tls.tool("ldapsearch", "-ZZ", "-LLL", "-b", PEOPLE, "(uid=teppo)", "cn")
    assert p.returncode == 0 and entries(p.stdout) == [dn("teppo")]
    p = tls.tool("ldapsearch", "-LLL", "-b", PEOPLE, "(uid=teppo)", "cn", url=tls.surl)
    assert p.returncode == 0 and entries(p.stdout) == [dn("teppo")]
    # Without trusting the certificate the client refuses; with REQCERT=never it goes.
    untrusted = dict(os.environ, LDAPTLS_CACERT="/nonexistent")
    p = tls.tool("ldapwhoami", url=tls.surl, env=untrusted)
    assert p.returncode != 0
    never = {k: v for k, v in os.environ.items() if k != "LDAPTLS_CACERT"}
    never["LDAPTLS_REQCERT"] = "never"
    p = tls.tool("ldapwhoami", url=tls.surl, env=never)
    assert p.returncode == 0 and p.stdout.strip() == "dn:" + dn("maija")
    # StartTLS is advertised in the root DSE.
    p = tls.tool("ldapsearch", "-LLL", "-b", "", "-s", "base", "supportedExtension", bind=None)
    assert "supportedExtension: 1.3.6.1.4.1.1466.20037" in p.stdout


def test_starttls_twice_and_plain_ldaps_port(tls):
    c = ldap3.Connection(ldap3.Server(tls.url, get_info=ldap3.NONE), user=dn("teppo"),
                         password=PW["teppo"], raise_exceptions=False)
    c.open()
    assert c.start_tls()
    assert c.bind()
    assert c.extend.standard.who_am_i() == "dn:" + dn("teppo")
    # A second StartTLS on a TLS session is an operationsError.
    r = c.extended("1.3.6.1.4.1.1466.20037")
    assert c.result["result"] == 1
    assert c.search(PEOPLE, "(uid=maija)", attributes=["uid"]) and len(c.entries) == 1
    c.unbind()
    # Plain LDAP spoken to the LDAPS port fails the handshake; the server lives on.
    p = tls.tool("ldapwhoami", url=f"ldap://127.0.0.1:{tls.sport}")
    assert p.returncode != 0
    p = tls.tool("ldapwhoami", url=tls.surl)
    assert p.returncode == 0


def test_ldaps_with_ldap3(tls):
    t = ldap3.Tls(ca_certs_file=str(tls.cert), validate=2)  # ssl.CERT_REQUIRED
    s = ldap3.Server("127.0.0.1", port=tls.sport, use_ssl=True, tls=t, get_info=ldap3.NONE)
    c = ldap3.Connection(s, user=dn("olli"), password=PW["olli"], raise_exceptions=False)
    assert c.bind()
    assert c.extend.standard.who_am_i() == "dn:" + dn("olli")
    c.unbind()


def test_starttls_unconfigured_is_protocol_error(tunnus):
    from test_ldap import Server
    registry(tunnus)
    s = Server(tunnus)
    try:
        p = subprocess.run(["ldapwhoami", "-x", "-ZZ", "-H", s.url], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode != 0 and "Protocol error" in p.stdout + p.stderr
        assert s.alive()
    finally:
        s.stop()


def test_bad_tls_config_fails_at_start(tunnus):
    conf = tunnus.dir / "tunnus.conf"
    conf.write_text(f"[ldap]\nbase = {BASE}\ntls_cert = {tunnus.dir}/missing.crt\n"
                    f"tls_key = {tunnus.dir}/missing.key\n")
    p = subprocess.run([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve", "--port", "0"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "tls_cert" in p.stdout + p.stderr
    conf.write_text(f"[ldap]\nbase = {BASE}\nldaps_port = 0\n")
    p = subprocess.run([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve", "--port", "0"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "ldaps_port" in p.stdout + p.stderr
    # A key that is not the certificate's is named as such.
    d = tunnus.dir
    for n in ("a", "b"):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-keyout", str(d / f"{n}.key"), "-out", str(d / f"{n}.crt"), "-subj",
                        "/CN=localhost"], check=True, capture_output=True)
    conf.write_text(f"[ldap]\nbase = {BASE}\ntls_cert = {d}/a.crt\ntls_key = {d}/b.key\n")
    p = subprocess.run([BIN, "--db", str(tunnus.db), "--config", str(conf), "serve", "--port", "0"],
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0 and "does not match the certificate" in p.stderr


# ---- Password Modify (RFC 3062) ---------------------------------------------

def test_ldappasswd_changes_own_password(tls, tunnus):
    before = audit(tunnus, "account.password")
    p = tls.tool("ldappasswd", "-ZZ", "-a", PW["maija"], "-s", "Uusi-Salasana-1")
    assert p.returncode == 0, p.stderr
    assert audit(tunnus, "account.password") == before + 1
    # The new password binds, the old one no longer does.
    assert tls.tool("ldapwhoami", "-ZZ", password="Uusi-Salasana-1").returncode == 0
    assert tls.tool("ldapwhoami", "-ZZ").returncode == 49
    # Neither password is in the audit trail.
    rows = tunnus.sql("SELECT count(*) FROM audit_event WHERE detail LIKE '%Uusi-Salasana%' "
                      "OR detail LIKE '%Kissa-123%' OR attrs LIKE '%Uusi-Salasana%'")
    assert rows[0][0] == 0


def test_ldappasswd_refusals(tls, tunnus):
    # A wrong old password: invalidCredentials, audited as a failure, nothing changed.
    fails = audit(tunnus, "dir.bind", "failed")
    p = tls.tool("ldappasswd", "-ZZ", "-a", "wrong", "-s", "X-new-1")
    assert p.returncode == 1 and "Invalid credentials (49)" in p.stdout + p.stderr
    assert audit(tunnus, "dir.bind", "failed") == fails + 1
    assert tls.tool("ldapwhoami", "-ZZ").returncode == 0
    # No old password: tunnus requires it.
    p = tls.tool("ldappasswd", "-ZZ", "-s", "X-new-1")
    assert p.returncode == 1 and "(53)" in p.stdout + p.stderr
    # No new password: tunnus does not generate one.
    p = tls.tool("ldappasswd", "-ZZ", "-a", PW["maija"])
    assert p.returncode == 1 and "(53)" in p.stdout + p.stderr
    # Someone else's password: insufficientAccessRights.
    p = tls.tool("ldappasswd", "-ZZ", "-a", PW["teppo"], "-s", "X-new-1", dn("teppo"))
    assert p.returncode == 1 and "(50)" in p.stdout + p.stderr
    assert tls.tool("ldapwhoami", "-ZZ", bind="teppo").returncode == 0
    # Naming oneself is fine.
    p = tls.tool("ldappasswd", "-ZZ", "-a", PW["maija"], "-s", "X-new-1", dn("maija"))
    assert p.returncode == 0, p.stderr
    # Anonymous: unwillingToPerform.
    p = tls.tool("ldappasswd", "-ZZ", "-a", "x", "-s", "y", dn("teppo"), bind=None)
    assert p.returncode == 1 and "(53)" in p.stdout + p.stderr


def test_ldap3_password_modify(tls):
    c = ldap3.Connection(ldap3.Server(tls.url, get_info=ldap3.NONE), user=dn("olli"),
                         password=PW["olli"], raise_exceptions=False)
    c.open()
    assert c.start_tls() and c.bind()
    assert c.extend.standard.modify_password(old_password=PW["olli"], new_password="Lintu-000")
    c.unbind()
    c = ldap3.Connection(ldap3.Server(tls.url, get_info=ldap3.NONE), user=dn("olli"),
                         password="Lintu-000", raise_exceptions=False)
    assert c.bind()
    c.unbind()


# ---- paged results (RFC 2696) -------------------------------------------------

@pytest.fixture
def many(tunnus):
    registry(tunnus)
    for i in range(23):
        # Names without digits: the registry refuses them.
        name = "Ab" + chr(ord("a") + i)
        tunnus.run("person", "add", "--given", name.capitalize(), "--family", "Sivutus",
                   "--birth-date", "1995-02-02", "--kind", "student", "--from", "2023-08-01",
                   "--username", "p" + chr(ord("a") + i))
    s = TlsServer(tunnus)
    yield s
    s.stop()


def test_ldapsearch_paged(many):
    p = many.tool("ldapsearch", "-LLL", "-E", "pr=10/noprompt", "-b", BASE, "(objectClass=*)",
                  "1.1")
    assert p.returncode == 0, p.stderr
    got = entries(p.stdout)
    # base + ou=people + ou=groups + 3 + 23 persons + 4 groups (unit-hr,
    # unit-it, staff, student), each once, in four pages.
    assert len(got) == 33 and len(set(got)) == 33
    assert p.stdout.count("pagedresults: cookie=") == 4
    unpaged = many.tool("ldapsearch", "-LLL", "-b", BASE, "(objectClass=*)", "1.1")
    assert sorted(entries(unpaged.stdout)) == sorted(got)
    # A filter: only the matching ones, paged.
    p = many.tool("ldapsearch", "-LLL", "-E", "pr=4/noprompt", "-b", PEOPLE, "(sn=Sivutus)", "uid")
    assert p.returncode == 0 and len(entries(p.stdout)) == 23


def test_ldap3_paged_and_cookie_rules(many):
    c = ldap3.Connection(ldap3.Server(many.url, get_info=ldap3.NONE), user=dn("maija"),
                         password=PW["maija"], raise_exceptions=False)
    c.open()
    assert c.start_tls() and c.bind()
    got = c.extend.standard.paged_search(PEOPLE, "(objectClass=person)", attributes=["uid"],
                                         paged_size=7, generator=False)
    uids = [e["attributes"]["uid"][0] for e in got if e["type"] == "searchResEntry"]
    assert len(uids) == 26 and len(set(uids)) == 26
    # A cookie continues only the same search on the same connection.
    c.search(PEOPLE, "(objectClass=person)", attributes=["uid"], paged_size=5)
    assert len(c.entries) == 5
    cookie = c.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
    assert cookie
    c.search(PEOPLE, "(uid=teppo)", attributes=["uid"], paged_size=5, paged_cookie=cookie)
    assert c.result["result"] == 53
    other = ldap3.Connection(ldap3.Server(many.url, get_info=ldap3.NONE), user=dn("maija"),
                             password=PW["maija"], raise_exceptions=False)
    other.open()
    assert other.start_tls() and other.bind()
    other.search(PEOPLE, "(objectClass=person)", attributes=["uid"], paged_size=5,
                 paged_cookie=cookie)
    assert other.result["result"] == 53
    # A page size of 0 abandons the search: empty cookie, no entries.
    c.search(PEOPLE, "(objectClass=person)", attributes=["uid"], paged_size=5)
    cookie = c.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
    c.search(PEOPLE, "(objectClass=person)", attributes=["uid"], paged_size=0, paged_cookie=cookie)
    assert c.result["result"] == 0 and len(c.entries) == 0
    assert not c.result["controls"]["1.2.840.113556.1.4.319"]["value"]["cookie"]
    c.unbind()
    other.unbind()


def test_paged_audits_only_entries_shown(many, tunnus):
    before = audit(tunnus, "dir.read")
    p = many.tool("ldapsearch", "-LLL", "-E", "pr=5/noprompt", "-b", PEOPLE, "(sn=Sivutus)", "uid")
    assert p.returncode == 0 and len(entries(p.stdout)) == 23
    assert audit(tunnus, "dir.read") == before + 23
