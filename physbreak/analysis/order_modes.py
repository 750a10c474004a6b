"""Order parameters by symmetry for runs stored with ``sampler.modes = true``.

The stream ``modes`` holds, per sample, every spin component's projection on
the site functions of the lattice's high-symmetry stars
(:func:`~physbreak.lattice.order.mode_basis`).  Projected further on each
irrep of the space group at a star (:func:`~physbreak.lattice.order.star_irreps`),
a sample gives that irrep's order-parameter matrix ``M`` ``(dim, n)`` (irrep
components x spin components) and magnitude ``|M|`` (1 for a state made of the
irrep's functions alone, e.g. a perfect ferromagnet, Neel or stripe state).

Per temperature the dominant irrep is the one with the largest ``<|M|^2>``; the
system's order parameter is the dominant irrep at its lowest temperature, and
``analyze --order auto`` uses it for chi, U4, Binder crossings and FSS.  The
ordered state's symmetry is the set of space-group operations that leave its
order parameter unchanged up to a global spin operation (flip or rotation):
``g`` with ``D(g) G D(g)^T = G`` for ``G = <M M^T> / <|M|^2>`` averaged over a
chain's samples (spin-rotation invariant), within 0.15 |G| (thermal noise).
The structure factor over the Brillouin zone comes from each chain's last
configuration.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.io import SystemData
from physbreak.lattice import build
from physbreak.lattice.order import arm_amplitudes, mode_basis, name_of, star_irreps, structure_factor
from physbreak.symmetry.crystal_modes import direction_pattern
from physbreak.symmetry.point_groups import identify

TOL = 0.15  # relative tolerance of the ordered state's invariance (thermal noise at the lowest temperature)


@lru_cache(maxsize=16)
def _irreps(kind: str, size: tuple, periodic: bool):
    lattice = build(kind, size, periodic, n_shells=1)
    B, stars = mode_basis(lattice)
    out, start = [], 0
    for star in stars:
        m = star.basis.shape[1]
        out += [(ir, slice(start, start + m)) for ir in star_irreps(lattice, star)]
        start += m
    return lattice, out, B.shape[1]


def irreps_of(system: SystemData):
    """``(lattice, [(OrderIrrep, columns of the modes stream)])`` of a system stored with modes."""
    if "modes" not in system.streams:
        raise InvalidValue("order", "auto", f"a run stored with sampler.modes = true for system {system.name} "
                           "(order parameters by symmetry need the per-sample Fourier modes)")
    lattice, irreps, m = _irreps(str(system.attrs["lattice"]), tuple(int(s) for s in system.attrs["size"]),
                                 bool(system.attrs["periodic"]))
    if system.streams["modes"].shape[2] != m:
        raise InvalidValue("modes", system.streams["modes"].shape[2], f"{m} columns for this lattice (the file was "
                           "written by another version of physbreak)")
    return lattice, irreps


def irrep_matrices(system: SystemData, irrep, cols, discard: int = 0) -> np.ndarray:
    """``(n_samples, C, dim, n)``: the irrep's order-parameter matrix per sample."""
    return np.einsum("md,scmn->scdn", irrep.W, system.streams["modes"][discard:, :, cols])


def dominant(system: SystemData, discard: int = 0) -> tuple:
    """``(irrep, cols, {label: <|M|^2> per temperature})``: the irrep with the largest
    ``<|M|^2>`` at the lowest temperature."""
    _, irreps = irreps_of(system)
    temps = np.unique(system.temperature)
    power = {}
    for ir, cols in irreps:
        M = irrep_matrices(system, ir, cols, discard)
        sq = (M ** 2).sum((-1, -2))
        power[ir.label] = np.array([sq[:, system.temperature == T].mean() for T in temps])
    best = max(range(len(irreps)), key=lambda i: power[irreps[i][0].label][0])
    return irreps[best][0], irreps[best][1], power


def order_vectors(system: SystemData, discard: int = 0) -> np.ndarray:
    """``(n_samples, C, dim * n)``: the dominant irrep's order parameter, flattened."""
    ir, cols, _ = dominant(system, 0)
    M = irrep_matrices(system, ir, cols, discard)
    return M.reshape(M.shape[:2] + (-1,))


def _group_text(irrep, fixed: np.ndarray) -> str:
    """``"C2v, translations of index 2"`` for the operations ``fixed`` ``(G,)`` bool."""
    if fixed.all():
        return "the whole space group"
    d = irrep.R.shape[1]
    Rs = np.unique(np.round(irrep.R[fixed], 6) + 0.0, axis=0)
    mats = np.array([np.pad(R, ((0, 3 - d), (0, 3 - d))) + np.diag([0.0] * d + [1.0] * (3 - d)) for R in Rs])
    index = int(irrep.translation.sum() // max(1, (fixed & irrep.translation).sum()))
    return f"{identify(mats)}, translations of index {index}"


def _symmetry(irrep, M: np.ndarray) -> tuple[str, str]:
    """One chain's ordered-state symmetry from its order parameter ``M`` ``(n_samples,
    dim, n)``: the operations fixing it up to a global spin operation (``G`` test),
    and those fixing it outright (``D(g) M = M`` in most samples)."""
    G = np.einsum("sdn,sen->de", M, M)
    G /= max(np.trace(G), 1e-300)
    DW = np.einsum("md,gmn,ne->gde", irrep.W, irrep.D, irrep.W)
    moved = np.einsum("gde,ef,gkf->gdk", DW, G, DW)
    with_spin = np.linalg.norm(moved - G, axis=(1, 2)) < TOL * np.linalg.norm(G)
    norm = np.linalg.norm(M, axis=(1, 2))
    diff = np.linalg.norm(np.einsum("gde,sen->gsdn", DW, M) - M[None], axis=(2, 3))
    alone = (diff < TOL * norm[None]).mean(1) > 0.5
    return _group_text(irrep, with_spin), _group_text(irrep, alone)


def order_analysis(system: SystemData, discard: int = 0) -> dict:
    """The symmetry analysis of one system: per temperature the dominant irrep,
    its ``<|M|^2>``; the order parameter chosen; at the lowest temperature the
    direction pattern (multi-arm stars: amplitude per arm, e.g. ``(a,0)``), the
    ordered state's symmetry, and the structure factor's peak (``_grid``: the
    whole ``S(k)``, for the plot)."""
    lattice, irreps = irreps_of(system)
    ir, cols, power = dominant(system, discard)
    temps = np.unique(system.temperature)
    rows = [{"temperature": float(T), "dominant": max(power, key=lambda k: power[k][i]),
             "power": {k: float(v[i]) for k, v in power.items()}} for i, T in enumerate(temps)]
    low = np.flatnonzero(system.temperature == temps[0])
    M = irrep_matrices(system, ir, cols, discard)[:, low]  # (S, chains, dim, n)
    patterns, symmetries = Counter(), Counter()
    for c in range(M.shape[1]):
        coeffs = np.einsum("md,sdn->smn", ir.W, M[:, c])
        amps = arm_amplitudes(ir.star, coeffs).mean(0)
        patterns[direction_pattern(amps, 0.2 * amps.max())] += 1
        symmetries[_symmetry(ir, M[:, c])] += 1
    (with_spin, alone), _ = symmetries.most_common(1)[0]
    peak = grid = None
    if system.configuration is not None:
        k, S = structure_factor(lattice, site_vectors(system)[low])
        top = int(np.argmax(S))
        peak = {"k": k[top].tolist(), "point": name_of(lattice, k[top]), "S_over_N": float(S[top] / lattice.n_sites)}
        grid = {"k": k, "S": S, "n_sites": lattice.n_sites, "vectors": lattice.vectors,
                "points": {s.name: s.arms for s in {ir.star.name: ir.star for ir, _ in irreps}.values()}}
    return {"system": system.name, "order_parameter": ir.label, "star": ir.star.name,
            "arms": ir.star.arms.tolist(), "dim": ir.dim, "rows": rows,
            "direction": patterns.most_common(1)[0][0],
            "symmetry": {"up_to_spin_operations": with_spin, "lattice_alone": alone},
            "structure_factor_peak": peak, "_grid": grid}


def site_vectors(system: SystemData) -> np.ndarray:
    """``(C, N, n)``: the stored configuration as order-parameter vectors per site."""
    x = np.asarray(system.configuration)
    model = str(system.attrs["model"])
    if model == "potts":
        from physbreak.systems.spins import simplex_vertices

        return simplex_vertices(int(system.attrs["n_components"]) + 1)[x.astype(np.int64)]
    return x.astype(np.float64)[..., None] if x.ndim == 2 else x.astype(np.float64)
