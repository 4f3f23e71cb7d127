"""The body of bench/prov.sh (see there): runs the phases, prints a
results table in Markdown."""
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from slapd_peer import Slapd, ROOTDN, ROOTPW, SUFFIX  # noqa: E402

WORK = Path(os.environ["WORK"])
N = int(os.environ["PERSONS"])
REPS = int(os.environ["REPS"])
RATE = int(os.environ["RATE"])
SECS = int(os.environ["SECONDS_"])
BIN, DB, DELAY = os.environ["BIN"], os.environ["DB"], os.environ["DELAY"]
PEOPLE = f"ou=people,{SUFFIX}"


def conf(url):
    return f"""[target dir]
type = ldap
url = {url}
bind_dn = {ROOTDN}
bind_password = {ROOTPW}
base = {PEOPLE}
group_base = ou=groups,{SUFFIX}
map.cn = {{display_name}}
map.sn = {{family_name}}
map.givenName = {{first_name}}
map.mail = {{mail}}
map.employeeType = {{kinds}}
map.employeeNumber = {{number}}
batch = 1000
"""


def fresh_registry(name):
    run = WORK / name
    for suffix in ("", ".key", "-wal", "-shm"):
        p = Path(str(run) + suffix)
        if p.exists():
            p.unlink()
    shutil.copy(DB, run)
    shutil.copy(DB + ".key", str(run) + ".key")
    return run


def one_rep(rep):
    reg = fresh_registry(f"run{rep}.db")
    shutil.rmtree(WORK / "slapd-a", ignore_errors=True)
    a = Slapd(WORK / "slapd-a").start()
    try:
        (WORK / "tunnus.conf").write_text(conf(a.url))
        t0 = time.time()
        p = subprocess.run([BIN, "--db", str(reg), "--config", str(WORK / "tunnus.conf"),
                            "provision", "run", "--once"], capture_output=True, text=True)
        t_prov = time.time() - t0
        if p.returncode != 0 or f"delivered {N}," not in p.stdout:
            raise SystemExit(f"provision run failed: {p.stdout} {p.stderr}")
        ldif = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", a.url,
                               "-b", SUFFIX, "(|(uid=*)(objectClass=groupOfNames))"],
                              capture_output=True, text=True, check=True).stdout
        (WORK / "equivalent.ldif").write_text(ldif)
    finally:
        a.stop()
    shutil.rmtree(WORK / "slapd-b", ignore_errors=True)
    b = Slapd(WORK / "slapd-b").start()
    try:
        t0 = time.time()
        b.ldapadd(ldif)
        t_ceil = time.time() - t0
    finally:
        b.stop()
    return N / t_prov, N / t_ceil, reg


def delay_phase(reg):
    """slapd-a holds the provisioned directory: start it again with tunnus
    serve delivering, and change RATE persons a second."""
    a = Slapd(WORK / "slapd-a")
    a.start(load_base=False)
    serve = None
    try:
        (WORK / "tunnus.conf").write_text("[ldap]\nbase = dc=example,dc=fi\n" + conf(a.url))
        with open(WORK / "serve.log", "w") as log:
            serve = subprocess.Popen([BIN, "--db", str(reg), "--config", str(WORK / "tunnus.conf"),
                                      "serve", "--port", "0"], stderr=log,
                                     stdout=subprocess.DEVNULL)
        time.sleep(1.5)
        p = subprocess.run([DELAY, str(reg), a.url, PEOPLE, str(RATE), str(SECS), str(N)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit(f"bench_prov_delay failed: {p.stdout} {p.stderr}")
        f = p.stdout.split()
        return dict(zip(f[0::2], f[1::2]))
    finally:
        if serve:
            serve.terminate()
            serve.wait(timeout=30)
        a.stop()


def main():
    prov, ceil = [], []
    reg = None
    for rep in range(REPS):
        p, c, reg = one_rep(rep)
        prov.append(p)
        ceil.append(c)
        print(f"rep {rep + 1}: provisioning {p:.0f}/s, ldapadd {c:.0f}/s", file=sys.stderr)
    d = delay_phase(reg)
    mp, mc = statistics.median(prov), statistics.median(ceil)
    print(f"| persons | tunnus entries/s | ldapadd entries/s | × ceiling | changes | p50 | p99 | max |")
    print(f"|---|---|---|---|---|---|---|---|")
    print(f"| {N:,} | {mp:,.0f} | {mc:,.0f} | {mp / mc:.2f} | {d['changes']} at {RATE}/s "
          f"(seen {d['seen']}, timed out {d['timed_out']}) | {d['p50_ms']} ms | "
          f"{d['p99_ms']} ms | {d['max_ms']} ms |")


main()
