"""The command line: the main job end to end, and every bad input giving one
clear line on stderr, exit code 2, and no lost output."""

import json
import os
import subprocess
import sys

import h5py
import pytest

from physbreak.cli import main

GOOD = """seed = 1
[lattice]
kind = "square"
sizes = [4, 6, 8]
[model]
kind = "ising"
[temperatures]
start = 2.0
stop = 2.6
num = 4
[sampler]
algorithm = "wolff"
thermalization = 20
samples = 200
"""


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_and_analyze_console_script(tmp_path):
    cfg = tmp_path / "good.toml"
    cfg.write_text(GOOD)
    out = tmp_path / "run.h5"
    r = subprocess.run(["physbreak", "simulate", cfg, "--out", out, "--quiet"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["physbreak", "analyze", out, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert len(result["rows"]) == 12 and result["complete"]
    assert len(result["binder"]["pairs"]) == 2
    names = {os.path.basename(p) for p in result["plots"]}
    assert {"energy.png", "abs_m.png", "susceptibility.png", "specific_heat.png", "binder.png",
            "energy_histograms.png"} <= names
    assert (tmp_path / "run_plots" / "binder.png").stat().st_size > 1000
    assert result["kind"]["name"] and result["transition"]["kind"] in ("first order", "continuous", "undecided")
    r = subprocess.run(["physbreak", "analyze", out, "--no-plots"], capture_output=True, text=True)
    assert "Tc (largest pair): Tc = " in r.stdout
    read, write = os.pipe()
    os.close(read)  # a reader that has already stopped, as `| head` does
    r = subprocess.run(["physbreak", "analyze", out, "--no-plots"], stdout=write, stderr=subprocess.PIPE,
                       text=True)
    os.close(write)
    assert r.returncode == 141 and r.stderr == ""


def test_console_script_exit_delivers_all_output_and_the_code():
    """The command leaves by os._exit (cli.exit_now): output through a pipe arrives whole, exit codes stay."""
    r = subprocess.run([sys.executable, "-m", "physbreak", "schema", "run"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["title"]
    r = subprocess.run([sys.executable, "-m", "physbreak", "schema", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("physbreak:")


@pytest.mark.parametrize("model, lattice, algorithm, extra", [
    ("xy", "square", "metropolis", "modes = true\n"), ("ising", "cubic", "tempering", "replicas = 2\n"),
    ("potts", "triangular", "metropolis", ""), ("heisenberg", "cubic", "wolff", ""),
    ("ising", "square", "swendsen_wang", "")])
def test_cpu_simulate_never_imports_torch(tmp_path, model, lattice, algorithm, extra):
    """Every CPU kernel runs on numpy arrays: torch (seconds to import) is never loaded."""
    cfg = tmp_path / "run.toml"
    cfg.write_text(f"""seed = 1
[lattice]
kind = "{lattice}"
sizes = [4]
[model]
kind = "{model}"
[temperatures]
values = [1.0, 2.0]
[sampler]
algorithm = "{algorithm}"
thermalization = 5
samples = 5
{extra}""")
    script = ("import sys; from physbreak.cli import main; code = main(sys.argv[1:]); "
              "sys.exit(code or (3 if 'torch' in sys.modules else 0))")
    r = subprocess.run([sys.executable, "-c", script, "simulate", str(cfg), "--out", str(tmp_path / "r.h5"),
                        "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])


@pytest.mark.parametrize("old, new, fragments", [
    ('kind = "square"', 'kind = "hexagon"', ["lattice.kind", "'hexagon'", "square"]),
    ('kind = "ising"', 'kind = "clock"', ["model.kind", "'clock'", "potts"]),
    ("start = 2.0", "start = -1.0", ["temperatures", "-1.0", "> 0"]),
    ("sizes = [4, 6, 8]", "sizes = [4, 0, 8]", ["lattice.sizes[1]", "0", ">= 1"]),
    ("sizes = [4, 6, 8]", "", ["lattice.sizes", "required"]),
    ("samples = 200", "samples = 0", ["sampler.samples", "0", ">= 1"]),
    ("samples = 200", "sample = 200", ["sampler.sample", "allowed"]),
    ('algorithm = "wolff"', 'algorithm = "gibbs"', ["sampler.algorithm", "'gibbs'", "metropolis"]),
    ('kind = "ising"', 'kind = "ising"\nh = 0.5', ["model.h", "wolff"]),
    ("seed = 1", 'seed = "one"', ["seed", "'one'", "integer"]),
    ("seed = 1", "seed = 1\ndevice = 'tpu'", ["device", "'tpu'", "cuda"]),
])
def test_bad_config(tmp_path, capsys, old, new, fragments):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(GOOD.replace(old, new))
    out = tmp_path / "never.h5"
    code, _, err = run(capsys, "simulate", cfg, "--out", out)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("physbreak: error:")
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    assert not out.exists()


def test_missing_and_invalid_toml(tmp_path, capsys):
    code, _, err = run(capsys, "simulate", tmp_path / "nope.toml")
    assert code == 2 and "CONFIG" in err and "nope.toml" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[lattice\nkind=")
    code, _, err = run(capsys, "simulate", bad)
    assert code == 2 and "invalid TOML" in err


def test_existing_output_is_never_overwritten(tmp_path, capsys):
    cfg = tmp_path / "good.toml"
    cfg.write_text(GOOD)
    out = tmp_path / "precious.h5"
    out.write_bytes(b"my thesis data")
    code, _, err = run(capsys, "simulate", cfg, "--out", out)
    assert code == 2 and "precious.h5" in err and "--resume" in err
    assert out.read_bytes() == b"my thesis data"
    code, _, err = run(capsys, "simulate", cfg, "--out", out, "--resume")
    assert code == 2 and "not a readable HDF5 file" in err
    assert out.read_bytes() == b"my thesis data"


def test_newer_schema_and_corrupt_files(tmp_path, capsys):
    newer = tmp_path / "newer.h5"
    with h5py.File(newer, "w") as f:
        f.attrs["physbreak_schema"] = 99
    code, _, err = run(capsys, "analyze", newer)
    assert code == 2 and "physbreak_schema = 99" in err and "upgrade" in err
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    code, _, err = run(capsys, "analyze", corrupt)
    assert code == 2 and "corrupt.h5" in err and "not a readable HDF5 file" in err
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    code, _, err = run(capsys, "analyze", foreign)
    assert code == 2 and "physbreak_schema" in err
    code, _, err = run(capsys, "analyze", tmp_path / "missing.h5")
    assert code == 2 and "does not exist" in err


def test_cuda_requested_without_a_gpu(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    cfg = tmp_path / "gpu.toml"
    cfg.write_text(GOOD.replace("seed = 1", 'seed = 1\ndevice = "cuda"'))
    code, _, err = run(capsys, "simulate", cfg, "--out", tmp_path / "x.h5")
    assert code == 2 and "device = 'cuda'" in err and "no CUDA device" in err


def test_output_folders_are_made_and_a_file_in_the_way_is_an_error(tmp_path, capsys):
    cfg = tmp_path / "good.toml"
    cfg.write_text(GOOD)
    code, _, err = run(capsys, "simulate", cfg, "--out", tmp_path / "no" / "such" / "dir.h5")
    assert code == 0 and (tmp_path / "no" / "such" / "dir.h5").is_file(), err
    (tmp_path / "blocker").write_text("")
    code, _, err = run(capsys, "simulate", cfg, "--out", tmp_path / "blocker" / "dir.h5")
    assert code == 2 and "--out" in err and "writable" in err


@pytest.mark.parametrize("command, module, function, hint", [
    ("simulate", "physbreak.workflows.simulate", "simulate", "continue it with --resume"),
    ("sweep", "physbreak.workflows.sweep", "run_sweep", "finished tasks are kept, run the same command again"),
])
def test_ctrl_c_says_how_to_continue(tmp_path, capsys, monkeypatch, command, module, function, hint):
    import importlib

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), function, interrupted)
    cfg = tmp_path / "run.toml"
    cfg.write_text(GOOD if command == "simulate" else
                   'kind = "sweep"\n[lattice]\nkind = "square"\n[grid]\nmodels = [{kind = "ising"}]\n'
                   "sizes = [4]\ntemperatures = [2.0]\nseeds = [1]\n")
    code, _, err = run(capsys, command, cfg)
    assert code == 130 and err.startswith("physbreak: interrupted; ") and hint in err and err.count("\n") == 1
