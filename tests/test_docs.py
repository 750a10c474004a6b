"""The examples in the docs run and print what they claim."""

import doctest
import re
from pathlib import Path

import pytest

import physbreak.lattice
import physbreak.symmetry

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", [physbreak.lattice, physbreak.symmetry])
def test_docstring_examples(module):
    assert doctest.testmod(module).failed == 0


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_relaxed_equivariance_worked_example(capsys):
    (block,) = python_blocks(ROOT / "docs" / "relaxed-equivariance.md")
    exec(compile(block, "relaxed-equivariance.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == ["8", "1", "True", "True"]


def test_readme_library_examples(capsys):
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) == 3
    outs = []
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
        outs.append(capsys.readouterr().out.splitlines())
    assert outs[1][-1] == "1024"
    assert outs[2] == ["-3.42", "P4mm", "Pnma a-a-c+"]


def test_learning_example(capsys, tmp_path, monkeypatch):
    (block,) = python_blocks(ROOT / "docs" / "learning.md")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "learning.md", "exec"), {})
    assert capsys.readouterr().out.splitlines()[-1] == "True"
