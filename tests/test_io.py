"""The HDF5 run file is self-describing and readable without physbreak."""

import h5py
import numpy as np
import pytest

from physbreak import __version__
from physbreak.config import parse
from physbreak.errors import OutputExistsError
from physbreak.io import SCHEMA_VERSION, read_run
from physbreak.io.hdf5 import create_file
from physbreak.workflows.simulate import simulate

CONFIG = """seed = 5
[lattice]
kind = "honeycomb"
sizes = [3, 4]
[model]
kind = "heisenberg"
J = [-1.0]
[temperatures]
values = [0.2, 1.5]
[sampler]
samples = 30
thermalization = 200
replicas = 3
"""


def test_schema_attributes_units_and_shapes(tmp_path):
    out = simulate(parse(CONFIG), tmp_path / "run.h5", progress=False)
    with h5py.File(out) as f:
        assert f.attrs["physbreak_schema"] == SCHEMA_VERSION
        assert f.attrs["physbreak_version"] == __version__
        assert f.attrs["config"] == CONFIG and f.attrs["seed"] == 5 and f.attrs["complete"]
        g = f["systems/L004x004"]
        n_chains, n_sites = 6, 2 * 16
        assert g.attrs["n_sites"] == n_sites and g.attrs["antiferromagnetic"]
        assert g["energy"].shape == (30, n_chains) and g["energy"].attrs["units"] == "J per spin"
        assert g["magnetization"].shape == (30, n_chains, 3)
        assert g["staggered_magnetization"].shape == (30, n_chains, 3)
        assert g["energy"].chunks is not None and g["energy"].maxshape[0] is None
        assert g["configuration"].shape == (n_chains, n_sites, 3)
        assert g["temperature"].attrs["units"] == "J/k_B"
        assert list(g["temperature"][:]) == [0.2, 0.2, 0.2, 1.5, 1.5, 1.5]
        assert list(g["replica"][:]) == [0, 1, 2, 0, 1, 2]
    _, systems = read_run(out)
    s = systems[1]
    # the stored observables are those of the stored final configuration
    conf = s.configuration
    assert np.allclose(np.linalg.norm(conf, axis=-1), 1.0)
    assert np.allclose(s.streams["magnetization"][-1], conf.mean(axis=1))
    # antiferromagnet at low T: staggered order, no uniform order
    low = s.temperature == 0.2
    stag = np.linalg.norm(s.streams["staggered_magnetization"][:, low], axis=-1).mean()
    unif = s.streams["abs_magnetization"][:, low].mean()
    assert stag > 0.8 and unif < 0.2


def test_same_seed_same_numbers_different_seed_different(tmp_path):
    a = simulate(parse(CONFIG), tmp_path / "a.h5", progress=False)
    b = simulate(parse(CONFIG), tmp_path / "b.h5", progress=False)
    c = simulate(parse(CONFIG.replace("seed = 5", "seed = 6")), tmp_path / "c.h5", progress=False)
    ea, eb, ec = (read_run(p)[1][0].streams["energy"] for p in (a, b, c))
    assert np.array_equal(ea, eb) and not np.array_equal(ea, ec)


def test_spin_glass_disorder_is_seeded_per_system():
    from physbreak.workflows.simulate import build_model

    cfg = parse(CONFIG.replace('kind = "heisenberg"\nJ = [-1.0]',
                               'kind = "ising"\nJ = [1.5]\ndisorder = "pm"\ndisorder_seed = 4'))
    a, b = build_model(cfg, (4,), 0), build_model(cfg, (4,), 0)
    assert np.array_equal(a.bond_J, b.bond_J)
    assert set(np.unique(a.bond_J)) == {-1.5, 1.5} and len(a.bond_J) == len(a.lattice.bonds(1))
    other = build_model(parse(cfg.text.replace("disorder_seed = 4", "disorder_seed = 5")), (4,), 0)
    assert not np.array_equal(a.bond_J, other.bond_J)


def test_a_new_file_appears_only_with_its_header(tmp_path):
    """Killed while the header is written, a run leaves no file (nothing for
    --resume to choke on); an existing file is never overwritten."""
    out = tmp_path / "run.h5"

    def killed(f):
        f.create_group("systems")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        create_file(out, {"kind": "spin_mc"}, killed)
    assert list(tmp_path.iterdir()) == []
    create_file(out, {"kind": "spin_mc"}, lambda f: f.create_group("systems")).close()
    with h5py.File(out) as f:
        assert f.attrs["physbreak_schema"] == SCHEMA_VERSION and "systems" in f
    before = out.read_bytes()
    with pytest.raises(OutputExistsError, match="run.h5"):
        create_file(out, {"kind": "spin_mc"})
    assert out.read_bytes() == before
