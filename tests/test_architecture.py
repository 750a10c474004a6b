"""The layering of docs/architecture.md holds, and the learning machinery exists once."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "physbreak"


def test_import_layers_contract_holds():
    """`lint-imports` (import-linter) checks the layers contract in .importlinter."""
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
    r = subprocess.run([exe, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "1 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("pattern, home", [
    (r"torch\.optim\.", "learn/predictor.py"),          # the one training loop
    (r"torch\.save\(|torch\.load\(", "learn/checkpoint.py"),  # the one checkpoint format
    (r"report\.md\"", "learn/report.py"),               # the one report writer
    (r"results\" / ", "learn/runner.py"),               # the one benchmark runner
])
def test_learning_machinery_exists_once(pattern, home):
    where = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
             for line in p.read_text().splitlines()
             if re.search(pattern, line) and not line.lstrip().startswith(("#", '"', "'", "*"))
             and "``" not in line}
    assert where == {home}, where


def test_only_the_config_layer_speaks_in_toml_fields():
    """Library modules raise InvalidValue (naming the argument) or another
    physbreak.errors class; ConfigError (naming a TOML field) is raised only by
    the config package, the workflows and the CLI."""
    allowed = {"cli.py", "errors.py"}
    offenders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                       if "ConfigError" in p.read_text() and p.name not in allowed
                       and p.relative_to(PACKAGE).parts[0] not in ("workflows", "config"))
    assert offenders == []
