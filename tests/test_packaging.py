"""modlab installs beside a researcher's own packages: pyproject declares ranges, constraints.txt pins."""

import json
import site
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras]


def _pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pairs = (line.split("==") for line in lines if line and not line.startswith("#"))
    return {name.strip().lower(): version.strip() for name, version in pairs}


def test_every_dependency_is_a_range_that_its_pinned_test_version_satisfies():
    pins = _pins()
    for requirement in _declared():
        assert not any(spec.operator == "==" for spec in requirement.specifier), f"{requirement} is pinned"
        name = requirement.name.lower()
        assert name in pins, f"{name} has no exact test version in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"constraints.txt {name}=={pins[name]} outside {requirement}"


def test_pip_install_keeps_an_existing_other_torch(tmp_path):
    """A fresh environment that already holds torch 2.11.0 (the metadata of one) and our other
    dependencies: pip resolves modlab without touching torch."""
    env = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    (packages,) = (env / "lib").glob("python3*/site-packages")
    (packages / "deps.pth").write_text(site.getsitepackages()[0] + "\n")
    dist = packages / "torch-2.11.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.11.0\n")
    (dist / "RECORD").write_text("")
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "--dry-run"]
    command += ["--no-index", "--no-build-isolation", "--quiet", "--report", str(report), str(ROOT)]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    installs = [item["metadata"]["name"] for item in json.loads(report.read_text())["install"]]
    assert installs == ["modlab"]
