"""First-principles effective Hamiltonian of a ferroelectric perovskite
(Zhong, Vanderbilt & Rabe, PRB 52, 6301 (1995)) on a periodic L x L x L supercell.

Degrees of freedom: a local soft-mode vector ``u`` per cell (Angstrom, shape
``(batch, L, L, L, 3)``) and the homogeneous strain ``eta`` (Voigt,
``(eta_xx, eta_yy, eta_zz, 2 eta_yz, 2 eta_xz, 2 eta_xy)``, shape ``(batch, 6)``).
Energy (eV per supercell)::

    E = sum_i [kappa2 u_i^2 + alpha u_i^4 + gamma (ux^2 uy^2 + uy^2 uz^2 + uz^2 ux^2)]
      + 1/2 sum_ij u_i . [J_short(R_ij) + (Z*^2 / eps_inf) D(R_ij)] u_j
      + E_elastic(eta) + 1/2 sum_i u_i^T B(eta) u_i + p (V(eta) - V0)

The quadratic inter-cell part is diagonal in Fourier space: its 3x3 kernel
``K(q)`` is built once per supercell (short-range shells j1..j7, and the
dipole-dipole lattice sum by an Ewald sum with conducting boundary
conditions) and applied with an FFT, so energy and forces cost O(N log N).
Parameters come from a data file (:func:`load_parameters`).
"""

from __future__ import annotations

import itertools
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.special import erfc

from physbreak.errors import InvalidValue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

COULOMB = 14.399645  # e^2 / (4 pi eps0) in eV Angstrom
GPA = 1.0 / 160.21766  # 1 GPa in eV / Angstrom^3
E_PER_A2_TO_C_PER_M2 = 16.021766  # e / Angstrom^2 -> C / m^2
DATA = Path(__file__).resolve().parent.parent / "data" / "perovskites"


@dataclass(frozen=True)
class PerovskiteParameters:
    """Effective-Hamiltonian parameters (eV, Angstrom; per 5-atom cell)."""

    name: str
    source: str
    a: float
    pressure_gpa: float
    kappa2: float
    alpha: float
    gamma: float
    j: tuple[float, ...]
    B11: float
    B12: float
    B44: float
    B1xx: float
    B1yy: float
    B4yz: float
    Z_star: float
    eps_inf: float
    xi: dict
    born: dict

    @property
    def dipole_prefactor(self) -> float:
        """``Z*^2 / eps_inf`` in eV Angstrom."""
        return self.Z_star**2 / self.eps_inf * COULOMB


def available() -> list[str]:
    """Names of the parameter files shipped with physbreak."""
    return sorted(p.stem for p in DATA.glob("*.toml"))


def load_parameters(name: str = "BaTiO3_ZVR1995") -> PerovskiteParameters:
    """Parameters from a shipped file (by name, see :func:`available`) or a TOML path."""
    path = Path(name) if str(name).endswith(".toml") else DATA / f"{name}.toml"
    if not path.is_file():
        raise InvalidValue("material", name, f"one of {', '.join(available())} or a .toml file")
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidValue("material", str(name), f"a readable TOML parameter file ({exc})") from None
    try:
        params = _parameters(raw)
    except KeyError as exc:
        raise InvalidValue("material", str(name), f"a parameter file with {exc.args[0]!r} "
                           "(see BaTiO3_ZVR1995.toml)") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise InvalidValue("material", str(name), f"a parameter file of numbers as in BaTiO3_ZVR1995.toml "
                           f"({exc})") from None
    numbers = [v for v in vars(params).values() if isinstance(v, float)] + list(params.j)
    if not np.all(np.isfinite(numbers)) or params.a <= 0:
        raise InvalidValue("material", str(name), "a parameter file with finite numbers and lattice.a > 0")
    return params


def _parameters(raw: dict) -> PerovskiteParameters:
    j = tuple(float(x) for x in raw["short_range"]["j"])
    if len(j) != 7:
        raise InvalidValue("short_range.j", list(j), "seven couplings j1..j7")
    return PerovskiteParameters(
        raw["name"], raw.get("source", ""), float(raw["lattice"]["a"]),
        float(raw["lattice"].get("pressure_gpa", 0.0)),
        *(float(raw["onsite"][k]) for k in ("kappa2", "alpha", "gamma")), j,
        *(float(raw["elastic"][k]) for k in ("B11", "B12", "B44")),
        *(float(raw["coupling"][k]) for k in ("B1xx", "B1yy", "B4yz")),
        float(raw["dipole"]["Z_star"]), float(raw["dipole"]["eps_inf"]),
        dict(raw["mode"]["xi"]), dict(raw["mode"].get("born", {})))


def _shell_vectors(shell: int) -> np.ndarray:
    """Integer neighbour vectors of the first three cubic shells: (6|12|8, 3)."""
    vecs = [v for v in itertools.product((-1, 0, 1), repeat=3) if sum(map(abs, v)) == shell]
    return np.array(vecs, float)


def short_range_matrices(j) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(d (k, 3) in lattice units, J(d) (k, 3, 3) eV/A^2)]`` for the three shells (ZVR Eq. 10)."""
    j1, j2, j3, j4, j5, j6, j7 = j
    out = []
    for shell in (1, 2, 3):
        d = _shell_vectors(shell)
        n = d / np.linalg.norm(d, axis=1, keepdims=True)
        if shell == 1:
            diag, off = j1 + (j2 - j1) * np.abs(n), 0.0 * n[:, :, None] * n[:, None, :]
        elif shell == 2:
            diag, off = j4 + math.sqrt(2) * (j3 - j4) * np.abs(n), 2 * j5 * n[:, :, None] * n[:, None, :]
        else:
            diag, off = j6 + 0 * n, 3 * j7 * n[:, :, None] * n[:, None, :]
        m = off * (1 - np.eye(3))
        m[:, [0, 1, 2], [0, 1, 2]] = diag
        out.append((d, m))
    return out


def _qgrid(L: int) -> np.ndarray:
    """``(L, L, L, 3)`` wave vectors of the supercell in units of 1/a (FFT order)."""
    k = 2 * np.pi * np.fft.fftfreq(L)
    return np.stack(np.meshgrid(k, k, k, indexing="ij"), axis=-1)


def short_range_kernel(L: int, j) -> np.ndarray:
    """``J(q) = sum_d J(d) e^{i q.d}``: ``(L, L, L, 3, 3)`` eV/A^2 (real)."""
    q = _qgrid(L)
    K = np.zeros((L, L, L, 3, 3))
    for d, m in short_range_matrices(j):
        K += np.einsum("xyzk,kab->xyzab", np.cos(q @ d.T), m)
    return K


def dipole_kernel(L: int, a: float, eta: float | None = None, tol: float = 1e-13) -> np.ndarray:
    """``D(q) = sum_{R != 0} e^{i q.R} (I/R^3 - 3 R R^T / R^5)`` on the supercell's
    q grid, ``(L, L, L, 3, 3)`` in 1/A^3, by an Ewald sum over the cubic lattice
    of spacing ``a``; the q + G = 0 term is left out (conducting boundary).
    ``eta`` (1/A) splits real and reciprocal space; the result does not depend on it."""
    eta = 1.6 / a if eta is None else eta
    q = _qgrid(L) / a
    cut = math.sqrt(-math.log(tol))
    # real space: sum over R != 0 of e^{iqR} (-d_a d_b erfc(eta r)/r)
    n = int(math.ceil(cut / eta / a)) + 1
    R = a * np.array([v for v in itertools.product(range(-n, n + 1), repeat=3) if any(v)], float)
    r = np.linalg.norm(R, axis=1)
    R, r = R[r * eta < cut + 1], r[r * eta < cut + 1]
    x = eta * r
    gauss = 2 * x / math.sqrt(math.pi) * np.exp(-x * x)
    B = (erfc(x) + gauss) / r**3
    C = (3 * erfc(x) + gauss * (3 + 2 * x * x)) / r**5
    T = C[:, None, None] * R[:, :, None] * R[:, None, :] - B[:, None, None] * np.eye(3)
    D = -np.einsum("xyzk,kab->xyzab", np.cos(q @ R.T), T)
    # reciprocal space: + (4 pi / v) sum_G k k^T / k^2 exp(-k^2 / 4 eta^2), k = q + G != 0
    kmax = 2 * eta * cut + math.pi * math.sqrt(3) / a
    m = int(math.ceil(kmax * a / (2 * np.pi)))
    G = 2 * np.pi / a * np.array(list(itertools.product(range(-m, m + 1), repeat=3)), float)
    G = G[np.linalg.norm(G, axis=1) <= kmax]
    for x in range(L):  # one slab of q at a time keeps memory at O(L^2 nG)
        k = q[x][..., None, :] + G  # (L, L, nG, 3)
        k2 = np.einsum("...i,...i->...", k, k)
        keep = k2 > 1e-12
        w = np.where(keep, np.exp(-k2 / (4 * eta**2)) / np.where(keep, k2, 1.0), 0.0)
        D[x] += 4 * np.pi / a**3 * np.einsum("yzg,yzga,yzgb->yzab", w, k, k)
    # self term: the R = 0 part of the smooth sum
    D -= 4 * eta**3 / (3 * math.sqrt(math.pi)) * np.eye(3)
    return D


def voigt_tensor(eta: torch.Tensor) -> torch.Tensor:
    """Symmetric strain tensors ``(batch, 3, 3)`` from Voigt ``(batch, 6)``."""
    e1, e2, e3, e4, e5, e6 = eta.unbind(-1)
    row = [torch.stack(r, -1) for r in ((e1, e6 / 2, e5 / 2), (e6 / 2, e2, e4 / 2), (e5 / 2, e4 / 2, e3))]
    return torch.stack(row, -2)


class EffectiveHamiltonian:
    """Energy and forces of the effective Hamiltonian on an ``L^3`` supercell.

    Args:
        params: :class:`PerovskiteParameters`.
        L: cells per edge.
        pressure_gpa: hydrostatic pressure (default: the parameter file's).
        device, dtype: where the fields live (float64 default).
    """

    def __init__(self, params: PerovskiteParameters, L: int, pressure_gpa: float | None = None,
                 device="cpu", dtype=torch.float64):
        if L < 2:
            raise InvalidValue("L", L, "an integer >= 2 (cells per edge)")
        self.p, self.L, self.N = params, L, L**3
        self.pressure = (params.pressure_gpa if pressure_gpa is None else pressure_gpa) * GPA
        self.device, self.dtype = torch.device(device), dtype
        K = short_range_kernel(L, params.j) + params.dipole_prefactor * dipole_kernel(L, params.a)
        self.kernel = torch.as_tensor(K, dtype=dtype, device=self.device)
        self.V0 = self.N * params.a**3

    def gamma_matrix(self) -> np.ndarray:
        """Harmonic matrix of a uniform mode at q = 0 (eV/A^2 per cell): ``2 kappa2 I + K(0)``."""
        return 2 * self.p.kappa2 * np.eye(3) + self.kernel[0, 0, 0].cpu().numpy()

    def _coupling(self, eta):
        """``B(eta)`` ``(batch, 3, 3)`` of ``1/2 u^T B u`` per cell."""
        p = self.p
        e1, e2, e3, e4, e5, e6 = eta.unbind(-1)
        d = [p.B1xx * e1 + p.B1yy * (e2 + e3), p.B1xx * e2 + p.B1yy * (e1 + e3), p.B1xx * e3 + p.B1yy * (e1 + e2)]
        row = [torch.stack(r, -1) for r in ((d[0], p.B4yz * e6, p.B4yz * e5), (p.B4yz * e6, d[1], p.B4yz * e4),
                                             (p.B4yz * e5, p.B4yz * e4, d[2]))]
        return torch.stack(row, -2)

    def energy_forces(self, u: torch.Tensor, eta: torch.Tensor):
        """``(E (batch,) eV, F_u (batch, L, L, L, 3) eV/A, F_eta (batch, 6) eV)``, forces = -gradients."""
        p, N = self.p, self.N
        u2 = (u * u).sum(-1, keepdim=True)
        sq = u * u
        onsite = p.kappa2 * u2 + p.alpha * u2**2 + p.gamma * 0.5 * (u2**2 - (sq * sq).sum(-1, keepdim=True))
        grad = 2 * p.kappa2 * u + 4 * p.alpha * u2 * u + 2 * p.gamma * u * (u2 - sq)
        uq = torch.fft.fftn(u, dim=(1, 2, 3))
        phi = torch.fft.ifftn(torch.einsum("xyzab,nxyzb->nxyza", self.kernel.to(uq.dtype), uq), dim=(1, 2, 3)).real
        Bm = self._coupling(eta)
        Bu = torch.einsum("nab,nxyzb->nxyza", Bm, u)
        S = torch.einsum("nxyza,nxyzb->nab", u, u)  # sum_i u_ia u_ib
        e1, e2, e3, e4, e5, e6 = eta.unbind(-1)
        elastic = N * (p.B11 / 2 * (e1**2 + e2**2 + e3**2) + p.B12 * (e1 * e2 + e2 * e3 + e3 * e1)
                       + p.B44 / 2 * (e4**2 + e5**2 + e6**2))
        F = torch.eye(3, dtype=eta.dtype, device=eta.device) + voigt_tensor(eta)
        det = torch.linalg.det(F)
        E = (onsite.sum((1, 2, 3, 4)) + 0.5 * (u * phi).sum((1, 2, 3, 4)) + elastic
             + 0.5 * (u * Bu).sum((1, 2, 3, 4)) + self.pressure * self.V0 * (det - 1))
        force_u = -(grad + phi + Bu)
        dEl = N * torch.stack([p.B11 * e1 + p.B12 * (e2 + e3), p.B11 * e2 + p.B12 * (e1 + e3),
                               p.B11 * e3 + p.B12 * (e1 + e2), p.B44 * e4, p.B44 * e5, p.B44 * e6], -1)
        dInt = torch.stack([0.5 * (p.B1xx * S[:, 0, 0] + p.B1yy * (S[:, 1, 1] + S[:, 2, 2])),
                            0.5 * (p.B1xx * S[:, 1, 1] + p.B1yy * (S[:, 0, 0] + S[:, 2, 2])),
                            0.5 * (p.B1xx * S[:, 2, 2] + p.B1yy * (S[:, 0, 0] + S[:, 1, 1])),
                            p.B4yz * S[:, 1, 2], p.B4yz * S[:, 0, 2], p.B4yz * S[:, 0, 1]], -1)
        cof = det[:, None, None] * torch.linalg.inv(F).transpose(-1, -2)
        dV = self.V0 * torch.stack([cof[:, 0, 0], cof[:, 1, 1], cof[:, 2, 2],
                                    cof[:, 1, 2], cof[:, 0, 2], cof[:, 0, 1]], -1)
        return E, force_u, -(dEl + dInt + self.pressure * dV)

    def polarization(self, u: torch.Tensor, eta: torch.Tensor | None = None) -> torch.Tensor:
        """Polarisation ``Z* <u> / V_cell`` in C/m^2, ``(batch, 3)`` (volume from the strain if given)."""
        vol = self.p.a**3 * (1.0 if eta is None else torch.linalg.det(
            torch.eye(3, dtype=u.dtype, device=u.device) + voigt_tensor(eta))[:, None])
        return self.p.Z_star * u.mean((1, 2, 3)) / vol * E_PER_A2_TO_C_PER_M2
