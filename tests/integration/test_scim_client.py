"""An independent SCIM implementation against `tunnus serve`: the npm
package SCIMMY (tests/scim-client, pinned by its package-lock.json) builds
and validates the requests, parses the answers, and evaluates the same
filters itself to cross-check tunnus's results (client.mjs)."""
import shutil
import subprocess

from conftest import ROOT
from test_scim import Server, registry, token

CLIENT = ROOT / "tests" / "scim-client"


def test_scimmy_client_against_tunnus(tunnus):
    assert shutil.which("node"), "nodejs is installed by scripts/deps.sh"
    if not (CLIENT / "node_modules" / "scimmy").is_dir():
        p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CLIENT,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
    registry(tunnus)
    tok = token(tunnus, "scimmy")
    s = Server(tunnus)
    try:
        p = subprocess.run(["node", "client.mjs"], cwd=CLIENT, capture_output=True, text=True,
                           timeout=120, env={"PATH": "/usr/bin:/bin", "SCIM_BASE": s.scim,
                                             "SCIM_TOKEN": tok})
        assert p.returncode == 0, p.stderr[-3000:]
        assert "checks passed" in p.stdout
        n = int(p.stdout.split("scimmy: ")[1].split()[0])
        assert n >= 30, p.stdout
    finally:
        s.stop()
    # What SCIMMY created is in the registry.
    assert tunnus.sql("SELECT count(*) FROM account WHERE username IN "
                      "('scimmy.user', 'scimmy.bulk')")[0][0] == 2
