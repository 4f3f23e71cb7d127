"""The README's demo command works from a plain clone (no ../shared)."""
import json
import os
import subprocess

from conftest import BIN, ROOT


def test_demo_script_builds_a_registry_and_shows_it(tmp_path):
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"), DEMO_PERSONS="60")
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
