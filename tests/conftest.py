import os

import numpy as np
import pytest
import torch

if not torch.cuda.is_available():
    # the fused Triton kernel is tested under Triton's interpreter (tests/test_triton.py); Triton reads this
    # when first imported, and e3nn imports it (through torch._dynamo) long before that test runs
    os.environ.setdefault("TRITON_INTERPRET", "1")


@pytest.fixture(autouse=True)
def _deterministic_threads(monkeypatch):
    torch.set_num_threads(2)
    # the CLI reads every HDF5 file's metadata in a forked child first (a damaged file cannot hang it);
    # hundreds of in-process CLI calls here would pay a fork each: only the file fuzz turns it on
    monkeypatch.setenv("PHYSBREAK_HDF5_GUARD", "0")
    yield


def run_chains(model, sampler, n_therm, n_samples, seed=0, ordered=False):
    """Thermalise and sample; returns (energy per spin, magnetisation vectors),
    shapes (n_samples, n_chains) and (n_samples, n_chains, n_components)."""
    n_chains = len(sampler.beta)
    state = model.initial_state(n_chains, torch.Generator().manual_seed(seed), ordered=ordered)
    if hasattr(sampler, "resident"):  # the compiled kernels keep their own compact state
        state = sampler.resident(state)
    for _ in range(n_therm):
        sampler.sweep(state, adapt=True)
    e, m = [], []
    for _ in range(n_samples):
        sampler.sweep(state)
        s = torch.as_tensor(state)  # the compiled kernels' state is a numpy array
        e.append((model.energy(s) / model.n_sites).numpy())
        m.append(model.magnetization(s).numpy())
    return np.array(e), np.array(m)


def run_cli(*args):
    """``physbreak ARGS`` in this process (the console script is exercised by the tests above)."""
    import contextlib
    import io
    from types import SimpleNamespace

    from physbreak.cli import main

    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return SimpleNamespace(returncode=code, stderr=err.getvalue(), stdout=out.getvalue())


def one_line_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    for f in fragments:
        assert f in r.stderr, (f, r.stderr)
