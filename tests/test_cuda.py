"""Every code path that takes ``device="cuda"`` gives on the GPU what it gives
on the CPU.  Skipped without a CUDA device; on a GPU machine::

    python -m pytest tests/test_cuda.py          # about a minute

``PHYSBREAK_TEST_DEVICE=cpu python -m pytest tests/test_cuda.py`` runs the same
comparisons with the CPU on both sides, to check the tests themselves.

Monte Carlo and Langevin runs draw different random numbers on each device, so
they are compared statistically (|z| < 5 with the errors from 16 independent
chains per side: correct kernels fail one of the 11 comparisons with
probability about 3e-4); networks
with the same seed have the same weights and breaker inputs on both devices, so
their outputs are compared to float32 round-off.
"""

import os

import numpy as np
import pytest
import torch

from physbreak.analysis.exact import ising_torus_energy
from physbreak.config import parse
from physbreak.workflows.simulate import simulate

DEVICE = os.environ.get("PHYSBREAK_TEST_DEVICE", "cuda")
pytestmark = pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(),
                                reason="needs a CUDA device")
SIGMAS = 5.0
ROUND_OFF = 1e-4  # A: float32 outputs of order 0.1 A, summed in a different order on the GPU

RUNS = {  # lattice, model, algorithm, temperatures
    "ising-square": ('kind = "square"\nsizes = [16]', 'kind = "ising"', "metropolis", [2.0, 3.0]),
    "potts3-triangular": ('kind = "triangular"\nsizes = [9]', 'kind = "potts"\nq = 3', "metropolis", [0.8, 1.6]),
    "xy-square": ('kind = "square"\nsizes = [12]', 'kind = "xy"', "metropolis", [0.7, 1.5]),
    "heisenberg-cubic": ('kind = "cubic"\nsizes = [4]', 'kind = "heisenberg"', "metropolis", [1.0, 2.0]),
    "glass-tempering": ('kind = "square"\nsizes = [6]', 'kind = "ising"\ndisorder = "pm"', "tempering",
                        [0.8, 1.2, 1.8]),
}


def chain_energies(name, device, out):
    """Per temperature, the mean energy per spin of each of 16 chains: ``(n_T, 16)``."""
    from physbreak.io import read_run

    lattice, model, algorithm, temps = RUNS[name]
    text = (f'seed = 4\ndevice = "{device}"\n[lattice]\n{lattice}\n[model]\n{model}\n[temperatures]\n'
            f'values = {temps}\n[sampler]\nalgorithm = "{algorithm}"\nthermalization = 300\nsamples = 600\n'
            'replicas = 16\n')
    _, systems = read_run(simulate(parse(text), out, progress=False))
    s = systems[0]
    e = s.streams["energy"].mean(axis=0)
    return np.array([e[s.temperature == T] for T in temps])


@pytest.mark.parametrize("name", list(RUNS))
def test_spin_runs_give_the_cpu_physics(name, tmp_path):
    gpu, cpu = chain_energies(name, DEVICE, tmp_path / "device.h5"), chain_energies(name, "cpu", tmp_path / "cpu.h5")
    for g, c in zip(gpu, cpu):
        error = np.hypot(g.std(ddof=1) / np.sqrt(len(g)), c.std(ddof=1) / np.sqrt(len(c)))
        assert abs(g.mean() - c.mean()) <= SIGMAS * error, (name, g.mean(), c.mean(), error)


def test_torch_multispin_on_the_device_has_the_exact_energy():
    """64 replicas of a 64 x 64 torus at T = 2.0 against Kaufman's exact energy."""
    from physbreak.mc.multispin import TorchMultispin

    L, T = 64, 2.0
    ms = TorchMultispin(L, T, seed=11, device=DEVICE, ordered=True)
    ms.sweep(300)
    series = []
    for _ in range(30):
        ms.sweep(10)
        series.append(ms.measure()[0])
    e = np.mean(series, axis=0)  # (64,) per replica
    assert abs(e.mean() - ising_torus_energy(L, T)) < 4 * e.std(ddof=1) / np.sqrt(len(e))


@pytest.fixture(scope="module")
def structures():
    from physbreak.problems.batio3 import make_dataset

    return make_dataset("TORC", 2, seed=5)


@pytest.mark.parametrize("breaker", ["none", "sbs", "sympe", "noise", "baseline", "canonical"])
def test_structure_predictor_on_the_device_matches_the_cpu(breaker, structures):
    from physbreak.learn.metrics import structure_relaxed_error as relaxed_error
    from physbreak.learn.structure import STRUCTURE_BREAKERS, StructurePredictor, breaker_irreps_of

    assert breaker in STRUCTURE_BREAKERS
    irreps = breaker_irreps_of(structures)
    cpu = StructurePredictor(breaker, seed=3, breaker_irreps=irreps)
    gpu = StructurePredictor(breaker, seed=3, device=DEVICE, breaker_irreps=irreps)
    for a, b in zip(cpu.predict(structures), gpu.predict(structures)):
        assert np.abs(a - b).max() < ROUND_OFF
    assert_training_moves(gpu.net.parameters, lambda: gpu.fit(structures, epochs=2, batch_size=4, progress=False))
    assert all(np.isfinite(y).all() for y in gpu.predict(structures))
    if breaker == "sbs":
        assert relaxed_error(gpu, structures[0], np.random.default_rng(0)) < 1e-4


@pytest.fixture(scope="module")
def spin_problems(tmp_path_factory):
    from physbreak.workflows.dataset import build_dataset
    from physbreak.workflows.dataset import parse as parse_dataset
    from physbreak.problems.store import read_problems

    path = tmp_path_factory.mktemp("gs") / "small.h5"
    build_dataset(parse_dataset('seed = 3\n[[family]]\nname = "uniform"\nsizes = [4]\ncount = 6\n'), path,
                  progress=False)
    return [p for _, _, p in read_problems(path)]


@pytest.mark.parametrize("strategy", ["none", "baseline", "noise", "sympe", "canonical", "emlp"])
def test_spin_predictors_on_the_device_match_the_cpu(strategy, spin_problems):
    from physbreak.learn.spin import MODELS, make_predictor

    assert strategy in MODELS
    cpu = make_predictor(strategy, spin_problems, 16, 3, "cpu", seed=2)
    gpu = make_predictor(strategy, spin_problems, 16, 3, DEVICE, seed=2)
    with torch.no_grad():  # canonical decodes to discrete pins: compare its network's outputs
        pairs = ([(cpu.outputs(spin_problems)[0].cpu().numpy(), gpu.outputs(spin_problems)[0].cpu().numpy())]
                 if strategy == "canonical" else zip(cpu.predict(spin_problems), gpu.predict(spin_problems)))
        for a, b in pairs:
            assert np.abs(a - b).max() < ROUND_OFF
    assert_training_moves(gpu.net.parameters, lambda: gpu.fit(spin_problems, epochs=2, batch_size=4, lr=3e-3,
                                                               progress=False))
    assert all(np.isfinite(y).all() for y in gpu.predict(spin_problems))


def assert_training_moves(parameters, fit):
    """``fit()`` runs with the ``parameters()`` on the device and changes them."""
    before = [p.detach().clone() for p in parameters()]
    fit()
    after = [p.detach() for p in parameters()]
    assert all(p.device.type == torch.device(DEVICE).type for p in after)
    assert max(float((a - b).abs().max()) for a, b in zip(before, after)) > 1e-6


def test_perovskite_forces_and_langevin_on_the_device():
    from physbreak.dynamics.langevin import Langevin
    from physbreak.systems.perovskite import EffectiveHamiltonian, load_parameters

    P = load_parameters("BaTiO3_ZVR1995")
    cpu, gpu = EffectiveHamiltonian(P, 4), EffectiveHamiltonian(P, 4, device=DEVICE)
    g = torch.Generator().manual_seed(1)
    u = 0.1 * torch.randn((2, 4, 4, 4, 3), generator=g, dtype=torch.float64)
    eta = 0.01 * torch.randn((2, 6), generator=g, dtype=torch.float64)
    for a, b in zip(cpu.energy_forces(u, eta), gpu.energy_forces(u.to(DEVICE), eta.to(DEVICE))):
        assert torch.allclose(a, b.cpu(), rtol=1e-10, atol=1e-10)
    zeros = torch.zeros((1, 4, 4, 4, 3), dtype=torch.float64, device=DEVICE)
    state = {"u": zeros, "eta": torch.zeros((1, 6), dtype=torch.float64, device=DEVICE),
             "vu": zeros.clone(), "veta": torch.zeros((1, 6), dtype=torch.float64, device=DEVICE)}
    md = Langevin(gpu, generator=torch.Generator(device=DEVICE).manual_seed(2))
    T = torch.tensor([300.0], dtype=torch.float64, device=DEVICE)
    md.step(state, T, 300)
    temps = [float(md.step(state, T, 5) and md.kinetic_temperature(state)[0]) for _ in range(200)]
    assert np.mean(temps) == pytest.approx(300.0, rel=0.05)  # equipartition, as test_perovskite on the CPU


def test_perovskite_run_on_the_device_writes_a_complete_file(tmp_path):
    import h5py

    from physbreak.workflows import perovskite_run

    text = ('kind = "perovskite"\nseed = 3\nsize = 4\nreplicas = 1\n'
            f'device = "{DEVICE}"\n[schedule]\nhigh = 320.0\nlow = 280.0\nstep = 20.0\n'
            'equilibration_steps = 200\nsamples = 10\nsample_every = 10\n')
    out = perovskite_run.run(perovskite_run.parse(text), tmp_path / "md.h5", progress=False)
    with h5py.File(out) as f:
        assert f.attrs["complete"] and f.attrs["stages_done"] == 3
        assert np.isfinite(f["polarization"][()]).all() and np.isfinite(f["mean_modes"][()]).all()


def test_structures_benchmark_config_on_the_device(tmp_path):
    from physbreak.workflows.train import parse, run

    text = (f'kind = "structures"\noutput = "{tmp_path / "out"}"\ndevice = "{DEVICE}"\nbreakers = ["sbs"]\n'
            'datasets = ["batio3"]\n[batio3]\nparents = "T"\ntrain = 2\ntest = 1\nepochs = 1\n')
    report = run(parse(text)).read_text()
    assert "| sbs |" in report
