"""A throw-away OpenLDAP slapd on loopback for provisioning tests and the
benchmark: its own directory, config (slapd.conf, back-mdb, the ppolicy
overlay for pwdAccountLockedTime) and a free port. Stopped by its PID only.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

SUFFIX = "dc=example,dc=fi"
ROOTDN = "cn=admin,dc=example,dc=fi"
ROOTPW = "secret"

CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
loglevel 0
sizelimit unlimited
database mdb
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {d}/data
maxsize 1073741824
{nosync}
index objectClass eq
index uid eq
index member eq
overlay ppolicy
access to * by * read
"""

BASE_LDIF = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=closed,{SUFFIX}
objectClass: organizationalUnit
ou: closed
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Slapd:
    def __init__(self, workdir: Path, nosync=False):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(exist_ok=True)
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.proc = None
        (self.dir / "slapd.conf").write_text(CONF.format(
            d=self.dir, suffix=SUFFIX, rootdn=ROOTDN, rootpw=ROOTPW,
            nosync="dbnosync" if nosync else ""))

    def start(self, load_base=True):
        self.proc = subprocess.Popen(
            ["/usr/sbin/slapd", "-d", "0", "-f", str(self.dir / "slapd.conf"),
             "-h", self.url + "/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("slapd exited: " + self.proc.stderr.read().decode())
                time.sleep(0.05)
        else:
            raise RuntimeError("slapd did not start")
        if load_base:
            self.ldapadd(BASE_LDIF)
        return self

    def ldapadd(self, ldif, check=True):
        p = subprocess.run(["ldapadd", "-x", "-H", self.url, "-D", ROOTDN, "-w", ROOTPW],
                           input=ldif, capture_output=True, text=True, timeout=600)
        if check and p.returncode != 0:
            raise AssertionError(p.stderr)
        return p

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def search(self, base=None, scope="one", filt="(objectClass=*)", attrs=("*", "+")):
        """Entries as {dn: {attr: [values]}} through ldap3."""
        import ldap3
        srv = ldap3.Server("127.0.0.1", port=self.port, get_info=ldap3.NONE)
        c = ldap3.Connection(srv, ROOTDN, ROOTPW, auto_bind=True)
        sc = {"one": ldap3.LEVEL, "base": ldap3.BASE, "sub": ldap3.SUBTREE}[scope]
        c.search(base or f"ou=people,{SUFFIX}", filt, search_scope=sc, attributes=list(attrs))
        out = {}
        for e in c.response:
            if e.get("type") != "searchResEntry":
                continue
            out[e["dn"].lower()] = {k.lower(): [v.decode() if isinstance(v, bytes) else str(v)
                                                for v in vals]
                                    for k, vals in e["raw_attributes"].items()}
        c.unbind()
        return out

    def modify(self, dn, attr, values):
        import ldap3
        srv = ldap3.Server("127.0.0.1", port=self.port, get_info=ldap3.NONE)
        c = ldap3.Connection(srv, ROOTDN, ROOTPW, auto_bind=True)
        ok = c.modify(dn, {attr: [(ldap3.MODIFY_REPLACE, values)]})
        c.unbind()
        return ok

    def delete(self, dn):
        import ldap3
        srv = ldap3.Server("127.0.0.1", port=self.port, get_info=ldap3.NONE)
        c = ldap3.Connection(srv, ROOTDN, ROOTPW, auto_bind=True)
        ok = c.delete(dn)
        c.unbind()
        return ok
