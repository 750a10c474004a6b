"""Generated bad input (hypothesis): mutations of every shipped config and of
valid files, through every command.  Each ends in exit 0 or a one-line exit 2
-- never a traceback -- and no file that existed before is changed or deleted.

Fixed seeds (``derandomize``); 300 cases in the default run, 2000 under ``-m slow``.
A config that ``--check`` accepts must also run (for the small templates, which
run in well under a second); one it refuses must be refused by the run too,
with nothing written.
"""

from __future__ import annotations

import copy
import math
import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import test_bad_inputs as bad
from conftest import run_cli as cli
from physbreak.config import read_toml
from physbreak.config.base import to_toml

SIMULATIONS = Path(__file__).resolve().parents[1] / "simulations"
COMMAND_OF = {"batio3_phases.toml": "simulate", "sweep_example.toml": "sweep", "structures_dataset.toml": "groundstates"}
SHIPPED = [(p.name, COMMAND_OF.get(p.name, "train" if "benchmark" in p.name else "simulate"),
            read_toml(p.read_text())) for p in sorted(SIMULATIONS.glob("*.toml"))]
RUNNABLE = {"run": "simulate", "dataset": "groundstates", "perovskite": "simulate"}  # small enough to run each time
VALUES = [math.nan, math.inf, -math.inf, -1, 0, 1, 2.5, 10**18, 1e300, -1e300, "x", "", True, False, [], {},
          [math.nan], [[1]], [{}], "cuda", "deep/er/x.h5", "a\nb"]


class Hang(BaseException):
    """A command ran past its time limit (BaseException: nothing in physbreak catches it)."""


def run_cli(*args, seconds: float = 60):
    """The command in this process, failing the case if it takes more than ``seconds``."""
    def stop(*_):
        raise Hang(f"physbreak {' '.join(map(str, args))} ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return cli(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def paths(data, prefix=()):
    """Every key path into nested tables and lists."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        yield prefix + (key,)
        yield from paths(value, prefix + (key,))


def apply(data, path, op, value):
    value = copy.deepcopy(value)  # VALUES holds lists and tables: later mutations must not reach them
    *head, last = path
    parent = data
    for key in head:
        parent = parent[key]
    if op == "delete":
        del parent[last]
    elif op == "wrap":
        parent[last] = [parent[last]]
    elif op == "unknown" and isinstance(parent, dict):
        parent["unknown_key"] = value
    else:
        parent[last] = value


@st.composite
def mutated_configs(draw):
    sources = [(f"template:{k}", bad.COMMAND[k], read_toml(bad.TEMPLATES[k].format(out="OUT")))
               for k in bad.TEMPLATES] + SHIPPED
    name, command, data = draw(st.sampled_from(sources))
    data = read_toml(to_toml(data))  # a deep copy
    for _ in range(draw(st.integers(1, 3))):
        where = list(paths(data))
        if not where:
            break
        apply(data, draw(st.sampled_from(where)), draw(st.sampled_from(["set", "set", "delete", "wrap", "unknown"])),
              draw(st.sampled_from(VALUES)))
    return name, command, data


def render(data: dict) -> str:
    try:
        return to_toml(data)
    except (TypeError, ValueError):
        return "= not toml"


def check_case(world, name, command, data):
    before = bad.digests(world)
    with tempfile.TemporaryDirectory() as tmp, working_directory(tmp):  # a mutated output is a relative path
        tmp = Path(tmp)
        text = render(data).replace("OUT", str(tmp / "out"))
        (tmp / "c.toml").write_text(text)
        r = run_cli(command, tmp / "c.toml", "--check")
        assert r.returncode in (0, 2), (name, text, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.count("\n") == (r.returncode == 2), (name, text, r.stderr)
        assert sorted(tmp.iterdir()) == [tmp / "c.toml"], (name, "--check wrote", list(tmp.iterdir()))
        kind = name.split(":")[-1]
        if name.startswith("template:") and kind in RUNNABLE and (r.returncode == 2 or small(kind, text)):
            run = run_cli(command, tmp / "c.toml", "--quiet")
            assert run.returncode == r.returncode, (name, text, r.stderr, run.stderr)  # check and run agree
            assert "Traceback" not in run.stderr and run.stderr.count("\n") <= 1, (name, text, run.stderr)
            if run.returncode == 2:
                assert sorted(tmp.iterdir()) == [tmp / "c.toml"], (name, "a refused run wrote", list(tmp.iterdir()))
    assert bad.digests(world) == before


MAX_WORK = 2e6  # site (or cell) updates: a mutation that deletes a size or a step count can leave a valid
# config whose defaults make a real study (e.g. the perovskite schedule's 29 temperatures x 5000 steps);
# such a config is not bad input, and is only checked with --check


def small(kind: str, text: str) -> bool:
    """Whether a config that --check accepted is a run small enough to run in every case."""
    from physbreak.config import parse as parse_run
    from physbreak.config.perovskite import parse as parse_perovskite

    if kind == "run":
        cfg = parse_run(text)
        s = cfg.sampler
        dim = {"chain": 1, "cubic": 3}.get(cfg.lattice.kind, 2)
        sites = sum(3 * int(np.prod(size * dim if len(size) == 1 else size)) for size in cfg.lattice.sizes)
        return sites * cfg.n_chains * (s.thermalization + s.samples * s.sweeps_per_sample) <= MAX_WORK
    if kind == "perovskite":
        cfg = parse_perovskite(text)
        steps = cfg.equilibration_steps + cfg.samples * cfg.sample_every
        return cfg.size**3 * cfg.temperatures.size * steps <= MAX_WORK
    return True


@contextmanager
def working_directory(path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


FILES = ["run.h5", "ds.h5", "gnn.pt", "run.toml", "ds.toml"]


@st.composite
def mutated_files(draw):
    name = draw(st.sampled_from(FILES))
    how = draw(st.sampled_from(["truncate", "flip", "append", "zero"]))
    where = draw(st.floats(0, 1))
    byte = draw(st.integers(0, 255))
    return name, how, where, byte


def file_case(world, name, how, where, byte):
    os.environ["PHYSBREAK_HDF5_GUARD"] = "20"  # damaged metadata can make libhdf5 loop forever (reset per test)
    before = bad.digests(world)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = bytearray((world / name).read_bytes())
        k = int(where * (len(data) - 1))
        if how == "truncate":
            data = data[:k]
        elif how == "flip":
            data[k] ^= byte or 1
        elif how == "append":
            data += bytes([byte]) * 64
        else:
            data[k:k + 4096] = bytes(len(data[k:k + 4096]))
        target = tmp / name
        target.write_bytes(bytes(data))
        suffix = Path(name).suffix
        commands = {".h5": [["analyze", target, "--no-plots"], ["predict", world / "gnn.pt", target, "--out", tmp / "p.h5"]],
                    ".pt": [["predict", target, world / "ds.h5", "--out", tmp / "p.h5"]],
                    ".toml": [["simulate" if name == "run.toml" else "groundstates", target, "--out", tmp / "o.h5",
                               "--quiet"]]}[suffix]
        if name == "run.h5":
            commands.append(["simulate", world / "run.toml", "--out", target, "--resume", "--quiet"])
        if name == "ds.h5":
            commands.append(["groundstates", world / "ds.toml", "--out", target, "--resume", "--quiet"])
        for args in commands:
            copy = target.read_bytes()
            r = run_cli(*args)
            assert r.returncode in (0, 2), (name, how, args, r.stderr)
            assert "Traceback" not in r.stderr and r.stderr.count("\n") <= 1, (name, how, args, r.stderr)
            if r.returncode == 2:
                assert target.read_bytes() == copy, (name, how, args, "a refused command changed its input")
    assert bad.digests(world) == before


COMMON = dict(derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large, HealthCheck.filter_too_much])
world = bad.world


@settings(max_examples=220, **COMMON)
@given(case=mutated_configs())
def test_mutated_configs(world, case):
    check_case(world, *case)


@settings(max_examples=80, **COMMON)
@given(case=mutated_files())
def test_mutated_files(world, case):
    file_case(world, *case)


@pytest.mark.slow
@settings(max_examples=1500, **COMMON)
@given(case=mutated_configs())
def test_mutated_configs_long(world, case):
    check_case(world, *case)


@pytest.mark.slow
@settings(max_examples=500, **COMMON)
@given(case=mutated_files())
def test_mutated_files_long(world, case):
    file_case(world, *case)

