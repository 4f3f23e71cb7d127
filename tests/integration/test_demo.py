"""The README's demo command works from a plain clone (no ../shared)."""
import json
import os
import subprocess

from conftest import BIN, ROOT


def test_demo_script_builds_a_registry_and_shows_it(tmp_path):
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"), DEMO_PERSONS="60", DEMO_SERVE="0")
    p = subprocess.run([str(ROOT / "scripts" / "demo.sh"), BIN], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "== an active member of staff" in p.stdout
    # Every feed imported without a rejected row, a lifecycle run activated
    # accounts, and the audit trail of all of it verifies.
    imports = [l for l in p.stdout.splitlines() if " rows: " in l]
    assert len(imports) == 4 and all(" 0 rejected" in l for l in imports), imports
    assert "activate" in p.stdout
    assert "audit trail verified" in p.stdout
    conf = tmp_path / "demo" / "tunnus.conf"
    listed = json.loads(subprocess.run([BIN, "--config", str(conf), "--json", "person", "list"],
                                       cwd=ROOT, capture_output=True, text=True,
                                       check=True).stdout)
    assert len(listed) >= 60
    shown = json.loads(subprocess.run([BIN, "--config", str(conf), "--json", "person", "show",
                                       f"number:{listed[0]['identity_number']}"],
                                      cwd=ROOT, capture_output=True, text=True,
                                      check=True).stdout)
    assert shown["affiliations"], "demo persons have relationships"
    active = json.loads(subprocess.run([BIN, "--config", str(conf), "--json", "person", "list",
                                        "--state", "active"], cwd=ROOT, capture_output=True,
                                       text=True, check=True).stdout)
    assert active, "the lifecycle run activated someone"


def test_status_reports_schema_version(tunnus):
    st = tunnus.json("status")
    assert st["schema_version"] == st["schema_latest"] >= 1


def test_demo_directory_answers_ldapsearch_as_the_readme_shows(tmp_path):
    """After the demo, ldapsearch against `tunnus serve` finds the demo user
    with the password the demo printed."""
    import re
    import shutil
    import time
    assert shutil.which("ldapsearch"), "ldap-utils is installed by scripts/deps.sh"
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"), DEMO_PERSONS="60", DEMO_SERVE="0")
    p = subprocess.run([str(ROOT / "scripts" / "demo.sh"), BIN], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    user = re.search(r"The LDAP directory \(docs/ldap.md\): (\S+) has the password", p.stdout).group(1)
    conf = tmp_path / "demo" / "tunnus.conf"
    srv = subprocess.Popen([BIN, "--config", str(conf), "serve", "--port", "0",
                            "--ldaps-port", "0", "--http-port", "0"], cwd=ROOT,
                           stderr=subprocess.PIPE, text=True)
    try:
        line = srv.stderr.readline()
        port = re.search(r"listening on [0-9.]+:(\d+)", line).group(1)
        sport = re.search(r"ldaps listening on [0-9.]+:(\d+)", srv.stderr.readline()).group(1)
        # The README's TLS line: StartTLS and LDAPS with the demo's certificate.
        tls_env = dict(os.environ, LDAPTLS_CACERT=str(tmp_path / "demo" / "tls" / "cert.pem"))
        for args in (["-ZZ", "-H", f"ldap://127.0.0.1:{port}"], ["-H", f"ldaps://127.0.0.1:{sport}"]):
            who = subprocess.run(["ldapwhoami", "-x", *args, "-D",
                                  f"uid={user},ou=people,dc=demo,dc=tunnus,dc=fi",
                                  "-w", "demo-password"],
                                 env=tls_env, capture_output=True, text=True, timeout=30)
            assert who.returncode == 0 and user in who.stdout, who.stderr
        base = "dc=demo,dc=tunnus,dc=fi"
        out = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", f"ldap://127.0.0.1:{port}",
                              "-D", f"uid={user},ou=people,{base}", "-w", "demo-password",
                              "-b", f"ou=people,{base}", f"(uid={user})", "uid", "mail"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert f"uid: {user}" in out.stdout and "mail: " in out.stdout
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def test_demo_scim_answers_the_readme_curl(tmp_path):
    """After the demo, the README's curl line (with the token and user the
    demo printed) finds the user over SCIM."""
    import re
    import shutil
    assert shutil.which("curl"), "curl is installed by scripts/deps.sh"
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"), DEMO_PERSONS="40", DEMO_SERVE="0")
    p = subprocess.run([str(ROOT / "scripts" / "demo.sh"), BIN], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    user = re.search(r"The LDAP directory \(docs/ldap.md\): (\S+) has the password", p.stdout).group(1)
    token = re.search(r"bearer token\n  (tnk_\S+)", p.stdout).group(1)
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"^curl -s -H 'Authorization: Bearer TOKEN' \\\n\s+'(http://127.0.0.1:8080/\S+)'$",
                  readme, re.M)
    assert m, "README shows the curl example"
    conf = tmp_path / "demo" / "tunnus.conf"
    srv = subprocess.Popen([BIN, "--config", str(conf), "serve", "--port", "0", "--ldaps-port", "0",
                            "--http-port", "0"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        while "http listening" not in line:
            line = srv.stderr.readline()
            assert line, "the server ended before announcing HTTP"
        port = re.search(r"http listening on [0-9.]+:(\d+)", line).group(1)
        url = m.group(1).replace("8080", port).replace("USER", user)
        out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {token}", url],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        body = json.loads(out.stdout)
        assert body["totalResults"] == 1 and body["Resources"][0]["userName"] == user
        # The admin API line the demo printed, and the README's, answer too.
        api = re.search(r"admin REST API .*\n  curl -s -H 'Authorization: Bearer (tnk_\S+)' \\\n"
                        r"\s+'(http://127.0.0.1:8080/api/v1/\S+)'", p.stdout)
        assert api and api.group(1) == token, p.stdout[-800:]
        m2 = re.search(r"^curl -s -H 'Authorization: Bearer TOKEN' \\\n\s+'(http://127.0.0.1:8080/api/v1/\S+)'$",
                       readme, re.M)
        assert m2, "README shows the admin API curl example"
        for url in (api.group(2), m2.group(1).replace("USER", user)):
            out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {token}",
                                  url.replace("8080", port)],
                                 capture_output=True, text=True, timeout=30)
            f = json.loads(out.stdout)
            assert f["policy_version"] >= 1 and f["steps"], f
    finally:
        srv.terminate()
        srv.wait(timeout=10)
