"""Perovskite effective Hamiltonian (ZVR 1995), Langevin runs, structures."""

import math
import itertools
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
import torch
from scipy.special import erfc

from physbreak.dynamics.langevin import Langevin, mode_mass
from physbreak.systems.perovskite import (COULOMB, EffectiveHamiltonian, dipole_kernel, load_parameters,
                                          short_range_kernel)
from physbreak.systems.perovskite_structures import cell_atoms, space_group, supercell_atoms

P = load_parameters()


def test_parameters_are_the_published_set():
    """ZVR 1995 Table I as quoted in the issue (and OpenFerro's BaTiO3_LDA record)."""
    assert (P.a, P.kappa2, P.alpha, P.gamma) == (3.95, 5.502, 110.4, -163.1)
    assert P.j == (-2.648, 3.894, 0.898, -0.789, 0.562, 0.358, 0.179)
    assert (P.B11, P.B12, P.B44, P.B1xx, P.B1yy, P.B4yz) == (126.0, 44.9, 50.3, -211.0, -19.3, -7.75)
    assert (P.Z_star, P.eps_inf, P.pressure_gpa) == (9.956, 5.24, -4.8)
    # the soft-mode eigenvector is consistent with the Born charges: Z* = sum_k Z_k xi_k (1 %),
    # and nearly normalised (ZVR round to two digits)
    xi, z = P.xi, P.born
    zstar = z["Ba"] * xi["Ba"] + z["Ti"] * xi["Ti"] + z["O_par"] * xi["O_par"] + 2 * z["O_perp"] * xi["O_perp"]
    assert abs(zstar / P.Z_star - 1) < 0.01
    assert abs(xi["Ba"] ** 2 + xi["Ti"] ** 2 + xi["O_par"] ** 2 + 2 * xi["O_perp"] ** 2 - 1) < 0.02


def _direct_ewald(pos, mu, box, eta, rcut_cells=3, gmax=12):
    """Point-dipole Ewald energy of a periodic box, pair by pair (independent of the
    kernel code): real-space pairs with images, structure factors over the box's
    reciprocal lattice, the self term; conducting boundary (no G = 0)."""
    n = len(pos)
    e_real = 0.0
    shifts = box * np.array(list(itertools.product(range(-rcut_cells, rcut_cells + 1), repeat=3)), float)
    for i in range(n):
        r = pos[i] - pos[None, :, None, :] * 0 - pos[:, None, :] + shifts[None]  # (n, images, 3)
        r = r.reshape(-1, 3)
        mj = np.repeat(mu, len(shifts), axis=0)
        d = np.linalg.norm(r, axis=1)
        ok = d > 1e-9
        r, d, mj = r[ok], d[ok], mj[ok]
        x = eta * d
        g = 2 * x / math.sqrt(math.pi) * np.exp(-x * x)
        B = (erfc(x) + g) / d**3
        C = (3 * erfc(x) + g * (3 + 2 * x * x)) / d**5
        e_real += 0.5 * np.sum(B * (mu[i] @ mj.T) - C * (r @ mu[i]) * np.einsum("ki,ki->k", r, mj))
    m = np.array([v for v in itertools.product(range(-gmax, gmax + 1), repeat=3) if any(v)], float)
    k = 2 * np.pi / box * m
    k2 = (k**2).sum(1)
    S = np.exp(1j * pos @ k.T).T @ mu  # (nG, 3): sum_j mu_j e^{ik r_j}
    kS = np.einsum("gi,gi->g", k, S)
    e_recip = 2 * np.pi / box**3 * np.sum(np.exp(-k2 / (4 * eta**2)) / k2 * np.abs(kS) ** 2)
    e_self = -2 * eta**3 / (3 * math.sqrt(math.pi)) * np.sum(mu * mu)
    return e_real + e_recip + e_self


def test_fourier_dipole_energy_equals_direct_ewald_sum():
    """Check 1: FFT-kernel dipole energy vs a pairwise Ewald sum, relative 1e-6."""
    L, a = 3, P.a
    rng = np.random.default_rng(0)
    u = rng.normal(size=(L, L, L, 3))
    D = dipole_kernel(L, a)
    uq = np.fft.fftn(u, axes=(0, 1, 2))
    phi = np.fft.ifftn(np.einsum("xyzab,xyzb->xyza", D, uq), axes=(0, 1, 2)).real
    e_fft = 0.5 * np.sum(u * phi)
    pos = a * np.stack(np.meshgrid(*[np.arange(L)] * 3, indexing="ij"), -1).reshape(-1, 3)
    e_direct = _direct_ewald(pos, u.reshape(-1, 3), L * a, eta=2.2 / (L * a) * 3)
    assert abs(e_fft / e_direct - 1) < 1e-6, (e_fft, e_direct)


def test_gamma_instability_equals_hand_computation():
    """Check 2: lowest eigenvalue of the q=0 harmonic matrix: 2 kappa2 + first shell
    (2 j2 + 4 j1) + second (8 j3 + 4 j4) + third (8 j6) - Z*^2/eps_inf * 4 pi / (3 a^3)
    (Lorentz field of a cubic lattice, conducting boundary) = -3.42 eV/A^2: unstable."""
    j1, j2, j3, j4, j5, j6, j7 = P.j
    hand = (2 * P.kappa2 + 2 * j2 + 4 * j1 + 8 * j3 + 4 * j4 + 8 * j6
            - P.Z_star**2 / P.eps_inf * COULOMB * 4 * math.pi / (3 * P.a**3))
    ev = np.linalg.eigvalsh(EffectiveHamiltonian(P, 4).gamma_matrix())
    assert np.allclose(ev, hand, atol=1e-9)
    assert hand == pytest.approx(-3.4215, abs=1e-3) and hand < 0
    # short-range kernel is the sum over the three shells; at q = 0 it is diagonal
    assert np.allclose(short_range_kernel(4, P.j)[0, 0, 0], (2 * j2 + 4 * j1 + 8 * j3 + 4 * j4 + 8 * j6) * np.eye(3))


def test_dipole_kernel_does_not_depend_on_the_ewald_split():
    assert np.allclose(dipole_kernel(4, P.a, eta=1.0 / P.a), dipole_kernel(4, P.a, eta=2.2 / P.a), atol=1e-12)


def test_forces_are_minus_the_energy_gradient():
    H = EffectiveHamiltonian(P, 3)
    g = torch.Generator().manual_seed(1)
    u = (0.1 * torch.randn((2, 3, 3, 3, 3), generator=g, dtype=torch.float64)).requires_grad_()
    eta = (0.01 * torch.randn((2, 6), generator=g, dtype=torch.float64)).requires_grad_()
    E, fu, feta = H.energy_forces(u, eta)
    gu, geta = torch.autograd.grad(E.sum(), (u, eta))
    assert torch.allclose(fu, -gu, atol=1e-10) and torch.allclose(feta, -geta, atol=1e-8)


def test_langevin_equipartition():
    """The kinetic temperature of the local modes averages to T (3 % at 300 K, 8^3)."""
    H = EffectiveHamiltonian(P, 4)
    g = torch.Generator().manual_seed(2)
    u = torch.zeros((1, 4, 4, 4, 3), dtype=torch.float64)
    st = {"u": u, "eta": torch.zeros((1, 6), dtype=torch.float64), "vu": torch.zeros_like(u),
          "veta": torch.zeros((1, 6), dtype=torch.float64)}
    md = Langevin(H, generator=g)
    T = torch.tensor([300.0], dtype=torch.float64)
    md.step(st, T, 500)
    temps = [float(md.step(st, T, 5) and md.kinetic_temperature(st)[0]) for _ in range(300)]
    assert np.mean(temps) == pytest.approx(300.0, rel=0.03)
    assert mode_mass(P) == pytest.approx(39.05, abs=0.05)


@pytest.mark.parametrize("u, eta, group", [
    ((0, 0, 0), None, "Pm-3m"),
    ((0, 0, 0.1), (-0.002, -0.002, 0.01, 0, 0, 0), "P4mm"),
    ((0.08, -0.08, 0), (0.005, 0.005, -0.003, 0, 0, -0.003), "Amm2"),
    ((-0.07, 0.07, 0.07), (0.004, 0.004, 0.004, 0.002, -0.002, -0.002), "R3m"),
])
def test_space_groups_of_the_four_phases(u, eta, group):
    assert space_group(cell_atoms(P, u, eta)) == group
    # a uniform supercell is the same crystal
    assert space_group(supercell_atoms(P, np.broadcast_to(np.asarray(u, float), (2, 2, 2, 3)), eta)) == group


def test_supercell_mapping_moves_atoms_by_the_eigenvector():
    u = np.zeros((2, 2, 2, 3))
    u[0, 0, 0] = (0, 0, 0.1)  # one cell's mode: its Ti moves xi_Ti u, its 8 Ba xi_Ba u / 8 each
    atoms = supercell_atoms(P, u)
    ideal = supercell_atoms(P, np.zeros_like(u))
    d = atoms.positions - ideal.positions
    sym = np.array(atoms.get_chemical_symbols())
    assert np.allclose(d[sym == "Ti"].sum(0), (0, 0, P.xi["Ti"] * 0.1))
    assert np.allclose(d[sym == "Ba"].sum(0), (0, 0, P.xi["Ba"] * 0.1))
    assert np.allclose(d[sym == "O"].sum(0), (0, 0, (P.xi["O_par"] + 2 * P.xi["O_perp"]) * 0.1))


TINY = """kind = "perovskite"
seed = 3
size = 4
replicas = 1
[schedule]
high = 320.0
low = 200.0
step = 20.0
equilibration_steps = 400
samples = 20
sample_every = 20
"""


def test_perovskite_run_resumes_bit_for_bit(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text(TINY)
    full, cut = tmp_path / "full.h5", tmp_path / "cut.h5"
    r = subprocess.run(["physbreak", "simulate", str(cfg), "--out", str(full), "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    proc = subprocess.Popen(["physbreak", "simulate", str(cfg), "--out", str(cut), "--quiet"])
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            with h5py.File(cut, "r", locking=False) as f:
                if int(f.attrs["stages_done"]) >= 1:
                    break
        except Exception:  # the writer holds the file; its metadata may be mid-update
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    with h5py.File(cut, "r") as f:
        assert not f.attrs["complete"]
    r = subprocess.run(["physbreak", "simulate", str(cfg), "--out", str(cut), "--resume", "--quiet"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with h5py.File(full, "r") as a, h5py.File(cut, "r") as b:
        for name in ("polarization", "strain", "mean_modes", "mode_rms"):
            assert np.array_equal(a[name][()], b[name][()]), name
    r = subprocess.run(["physbreak", "analyze", str(full), "--no-plots"], capture_output=True, text=True)
    assert r.returncode == 0 and "space group" in r.stdout


@pytest.mark.parametrize("edit, fragments", [
    (("size = 4", "size = 1"), ["size", "1", ">= 2"]),
    (("high = 320.0", "high = 100.0"), ["schedule.low", "200.0", "below"]),
    (("seed = 3", 'seed = 3\nmaterial = "SrTiO3_x"'), ["material", "SrTiO3_x", "BaTiO3_ZVR1995"]),
    (("step = 20.0", "step = -1"), ["schedule.step", "-1", "> 0"]),
])
def test_bad_perovskite_config_is_one_clear_line(tmp_path, edit, fragments):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(TINY.replace(*edit))
    r = subprocess.run([sys.executable, "-m", "physbreak.cli", "simulate", str(cfg), "--out",
                        str(tmp_path / "x.h5")], capture_output=True, text=True)
    assert r.returncode == 2 and not (tmp_path / "x.h5").exists()
    assert all(f in r.stderr for f in fragments), r.stderr


# Howard & Stokes, Acta Cryst. B 54, 782 (1998), Table 2: the 15 tilt systems with distinct space groups
HOWARD_STOKES = {"a0a0a0": "Pm-3m", "a0a0c+": "P4/mbm", "a0b+b+": "I4/mmm", "a+a+a+": "Im-3", "a+b+c+": "Immm",
                 "a0a0c-": "I4/mcm", "a0b-b-": "Imma", "a-a-a-": "R-3c", "a0b-c-": "C2/m", "a-b-b-": "C2/c",
                 "a-b-c-": "P-1", "a0b+c-": "Cmcm", "a+b-b-": "Pnma", "a+b-c-": "P2_1/m", "a+a+c-": "P4_2/nmc"}


@pytest.mark.parametrize("symbol", sorted(HOWARD_STOKES))
def test_glazer_system_space_group_and_extraction(symbol):
    from physbreak.systems.tilts import build, extract

    distinct = len(dict.fromkeys(symbol[::2]))
    for angles in ([4.0, 6.5, 8.5][:distinct], [9.0, 2.5, 5.0][:distinct]):
        atoms = build(symbol, angles)
        assert space_group(atoms, 1e-4) == HOWARD_STOKES[symbol]
        got, got_angles = extract(atoms)
        assert got == symbol
        per_axis = [0.0 if s == "0" else angles[list(dict.fromkeys(symbol[::2])).index(l)]
                    for l, s in zip(symbol[::2], symbol[1::2])]
        assert np.allclose(got_angles, per_axis, atol=1e-4)


def test_glazer_bad_input():
    from physbreak.errors import InvalidValue
    from physbreak.systems.tilts import build

    with pytest.raises(InvalidValue, match="a0b"):
        build("a0b*c-", [5.0])
    with pytest.raises(InvalidValue, match="equal angles"):
        build("a-a-c+", [5.0, 6.0, 7.0])
