"""A Linux host's view of the directory (issue 6 item 5): nslcd
(libnss-ldapd) pointed at tunnus resolves registry accounts and groups
through the C library, as `getent` and `id` on a real host do.

nslcd reads /etc/nslcd.conf and talks to libnss_ldap through /run/nslcd,
and glibc reads /etc/nsswitch.conf: the test runs in a private mount
namespace (unshare -m) with its own copies bind-mounted over those paths,
so the host's configuration is never touched. Needs root, unshare and
nslcd (scripts/deps.sh installs nslcd and libnss-ldapd)."""
import base64
import hashlib
import os
import shutil
import subprocess

import pytest

from test_ldap import BASE, Server, registry

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("nslcd") or not shutil.which("unshare")
    or not os.path.exists("/usr/lib/x86_64-linux-gnu/libnss_ldap.so.2")
    and not any(os.path.exists(os.path.join(d, "libnss_ldap.so.2"))
                for d in ("/lib/x86_64-linux-gnu", "/usr/lib", "/lib")),
    reason="needs root, unshare and nslcd/libnss-ldapd (scripts/deps.sh)")

SCRIPT = r"""
set -e
mount --bind "$D/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$D/nslcd.conf" /etc/nslcd.conf
mkdir -p /run/nslcd
mount -t tmpfs -o mode=0755 tmpfs /run/nslcd
chown nslcd:nslcd /run/nslcd
nslcd -d 2>"$D/nslcd.log" &
pid=$!
i=0
while [ ! -S /run/nslcd/socket ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
set +e
echo "== passwd"; getent passwd maija teppo
echo "rc=$?"
echo "== ghost"; getent passwd ghost-user; echo "rc=$?"
echo "== id"; id maija; echo "rc=$?"
echo "== group"; getent group unit-hr student; echo "rc=$?"
kill $pid; wait $pid 2>/dev/null
exit 0
"""


def test_getent_and_id_resolve_registry_accounts(tunnus, tmp_path):
    registry(tunnus)
    salt = b"nslcdslt"
    h = "{SSHA}" + base64.b64encode(hashlib.sha1(b"host-secret" + salt).digest() + salt).decode()
    srv = Server(tunnus, f"service_dn = cn=host, {BASE}\nservice_password_hash = {h}\n")
    try:
        d = tmp_path / "ns"
        d.mkdir()
        (d / "nsswitch.conf").write_text("passwd: files ldap\ngroup: files ldap\n"
                                         "shadow: files\nhosts: files\n")
        conf = d / "nslcd.conf"
        conf.write_text(f"uid nslcd\ngid nslcd\nuri ldap://127.0.0.1:{srv.port}/\n"
                        f"base {BASE}\nbinddn cn=host,{BASE}\nbindpw host-secret\n"
                        "timelimit 5\nbind_timelimit 5\nreconnect_retrytime 1\n")
        conf.chmod(0o600)
        p = subprocess.run(["unshare", "-m", "sh", "-c", SCRIPT], env={**os.environ, "D": str(d)},
                           capture_output=True, text=True, timeout=120)
        out = p.stdout
        log = (d / "nslcd.log").read_text() if (d / "nslcd.log").exists() else ""
        assert p.returncode == 0, p.stderr + log[-2000:]
        sec = {}
        cur = None
        for line in out.splitlines():
            if line.startswith("== "):
                cur = line[3:]
                sec[cur] = []
            elif cur:
                sec[cur].append(line)
        pw = [l for l in sec["passwd"] if ":" in l]
        users = {l.split(":")[0]: l.split(":") for l in pw}
        assert set(users) == {"maija", "teppo"}, out + log[-2000:]
        m = users["maija"]
        # name:pw:uidNumber:gidNumber:gecos:home:shell, as the directory publishes them
        # (the password field is "*": userPassword is never returned).
        assert m[1] in ("x", "*") and int(m[2]) >= 1000 and int(m[3]) > 0
        assert "Meikäläinen" in m[4]
        assert m[5].startswith("/") and m[6].startswith("/")
        assert users["teppo"][2] != m[2]
        assert sec["ghost"][-1] == "rc=2"
        idline = sec["id"][0]
        assert idline.startswith(f"uid={m[2]}(maija)"), idline
        # The directory's uidNumber agrees with what the host sees.
        ls = srv.search("-b", f"uid=maija,ou=people,{BASE}", "-s", "base", "(objectClass=*)",
                        "uidNumber").stdout
        assert f"uidNumber: {m[2]}" in ls
        # posixGroups of ou=groups: gid numbers from 1000000000, members by memberUid.
        groups = {l.split(":")[0]: l.split(":") for l in sec["group"] if ":" in l}
        assert set(groups) == {"unit-hr", "student"}, out
        assert int(groups["unit-hr"][2]) >= 1000000000
        assert groups["unit-hr"][3].split(",") == ["maija"]
        assert sorted(groups["student"][3].split(",")) == ["olli", "teppo"]
        # id lists the registry groups of the account too.
        assert "(unit-hr)" in idline, idline
    finally:
        srv.stop()
