"""Classical spin Hamiltonians on a :class:`~physbreak.lattice.Lattice`.

All states are batched over chains (replicas or temperatures) in one array
(a torch tensor for the torch methods, numpy for the compiled kernels, which
never import torch):

* Ising: ``(n_chains, n_sites)`` float, values +-1;
* Potts: ``(n_chains, n_sites)`` int64, values ``0..q-1``;
* XY / Heisenberg: ``(n_chains, n_sites, n)`` float64 unit vectors, n = 2 / 3.

Conventions (energies in units of J, temperatures in units of J/k_B)::

    Ising       H = -sum_<ij> J_ij s_i s_j       - sum_i h_i s_i
    Potts       H = -sum_<ij> J_ij d(s_i, s_j)   - sum_i h_i d(s_i, 0)
    O(n)        H = -sum_<ij> J_ij S_i . S_j     - sum_i h_i S_i^x
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np

from physbreak.errors import InvalidValue
from physbreak.lazy import torch
from physbreak.lattice import Lattice
from physbreak.lattice.lattice import padded_table, stable_order


class SpinModel:
    """Couplings and fields on a lattice; the sampler-facing interface.

    Args:
        lattice: the sites and bonds.
        J: couplings, either one number per bond shell (``[J1, J2, ...]``) or
            one per bond of the shells listed (``(n_bonds,)``, e.g. a spin glass
            on shell 1); positive J is ferromagnetic.
        h: uniform field (float) or one per site (``(n_sites,)``).
        device: torch device of every table and state (``device_type``: ``"cpu"``
            or ``"cuda"``, read without importing torch).
    """

    n_components = 1
    state_dtype_name = "float32"
    coupling_dtype_name = "float32"

    def __init__(self, lattice: Lattice, J=(1.0,), h=0.0, device="cpu"):
        self.lattice = lattice
        self.device_name = str(device)
        self.device_type = self.device_name.split(":")[0]
        J = np.atleast_1d(np.asarray(J, dtype=np.float64))
        shells = len(lattice.shells)
        if J.size <= shells:
            self.n_shells = J.size
            bonds = [lattice.bonds(s + 1) for s in range(J.size)]
            bond_J = np.concatenate([np.full(len(b), j) for b, j in zip(bonds, J)])
            bonds = np.concatenate(bonds)
        else:
            sizes = np.cumsum([len(b) for b in lattice.shells])
            if J.size not in sizes:
                raise InvalidValue("J", f"{J.size} values",
                                  f"one per shell (at most {shells}) or one per bond "
                                  f"(one of {sizes.tolist()})")
            self.n_shells = int(np.searchsorted(sizes, J.size)) + 1
            bonds = np.concatenate(lattice.shells[: self.n_shells])
            bond_J = J
        keep = bond_J != 0.0
        self.bonds, self.bond_J = (bonds, bond_J) if keep.all() else (bonds[keep], bond_J[keep])
        self.field_np = np.broadcast_to(np.asarray(h, dtype=np.float64), (lattice.n_sites,)).copy()
        self.has_field = bool(np.any(self.field_np != 0.0))

    @cached_property
    def device(self):
        return torch.device(self.device_name)

    @property
    def state_dtype(self):
        return getattr(torch, self.state_dtype_name)

    @property
    def coupling_dtype(self):
        return getattr(torch, self.coupling_dtype_name)

    @cached_property
    def field(self):
        """The field per site ``(n_sites,)`` float64 on the device."""
        return torch.as_tensor(self.field_np, device=self.device)

    # Tables built on first use: a kernel that needs none of them (the
    # square-lattice checkerboard) does not pay for them on 10^6 sites.
    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """Padded neighbour table ``(n_sites, z_max)`` and its couplings; padding
        points at the site itself with coupling 0.  Each site's neighbours in
        bond order, first the bonds it starts, then those it ends."""
        n = self.lattice.n_sites
        i, j = self.bonds[:, 0], self.bonds[:, 1]
        src = np.concatenate([i, j])
        indptr, order = stable_order(n, src)
        return padded_table(n, indptr, np.concatenate([j, i])[order],
                            np.concatenate([self.bond_J, self.bond_J])[order])

    @property
    def neighbors_np(self) -> np.ndarray:
        return self._table[0]

    @property
    def neighbor_J_np(self) -> np.ndarray:
        return self._table[1]

    @cached_property
    def neighbors(self) -> torch.Tensor:
        return torch.as_tensor(self.neighbors_np, device=self.device)

    @cached_property
    def colours_np(self) -> list[np.ndarray]:
        """The colour classes of the bond graph (:meth:`Lattice.coloring`)."""
        return self.lattice.coloring(self.n_shells)

    @cached_property
    def colours(self) -> list[torch.Tensor]:
        """:attr:`colours_np` as tensors."""
        return [torch.as_tensor(c, device=self.device) for c in self.colours_np]

    @cached_property
    def _ci(self) -> torch.Tensor:
        return torch.as_tensor(self.bonds[:, 0], device=self.device)

    @cached_property
    def _cj(self) -> torch.Tensor:
        return torch.as_tensor(self.bonds[:, 1], device=self.device)

    @cached_property
    def _bond_J(self) -> torch.Tensor:
        return torch.as_tensor(self.bond_J, device=self.device)

    @cached_property
    def _slots(self) -> list:
        return [self._colour_slots(c) for c in self.colours_np]

    def _colour_slots(self, sites: np.ndarray) -> list:
        """Per neighbour slot of one colour class: (neighbour indices ``(n_c,)``,
        coupling: a float when uniform over the class, else a ``(n_c,)`` tensor).
        Slots whose couplings all vanish are dropped."""
        slots = []
        for k in range(self.neighbors_np.shape[1]):
            J = self.neighbor_J_np[sites, k]
            if not np.any(J):
                continue
            cpl = float(J[0]) if np.all(J == J[0]) else torch.as_tensor(
                J, device=self.device, dtype=self.coupling_dtype)
            slots.append((torch.as_tensor(self.neighbors_np[sites, k], device=self.device), cpl))
        return slots

    @property
    def n_sites(self) -> int:
        return self.lattice.n_sites

    # --- what subclasses provide ---------------------------------------------
    def initial_array(self, n_chains: int, rng: np.random.Generator, ordered: bool = False) -> np.ndarray:
        """Start states as a numpy array: all along the first state / axis when
        ``ordered``, else independent uniform random spins drawn from ``rng``."""
        raise NotImplementedError

    def order_vectors(self, state) -> torch.Tensor:
        """Per-site order-parameter vectors ``(n_chains, n_sites, n_components)`` float64."""
        raise NotImplementedError

    def order_array(self, state: np.ndarray) -> np.ndarray:
        """:meth:`order_vectors` of a numpy state, as a numpy array."""
        raise NotImplementedError

    def energy(self, state) -> torch.Tensor:
        """Total energy per chain, ``(n_chains,)`` float64, units of J."""
        raise NotImplementedError

    def infinite_temperature(self) -> tuple[float, float]:
        """``(ln of the states of one spin, mean energy per spin)`` at beta = 0:
        the anchor of the free energy (``ln Z / N -> ln g`` as beta -> 0)."""
        raise NotImplementedError

    def propose(self, old, step, generator):
        """A proposed new value for each site in ``old`` ``(n_chains, n_c, ...)``;
        ``step`` ``(n_chains, 1)`` is the proposal width of continuous spins."""
        raise NotImplementedError

    def delta_energy(self, state, colour: int, old, new) -> torch.Tensor:
        """Energy change ``(n_chains, n_c)`` of setting each site of colour class
        ``colour`` from ``old`` to ``new`` alone (units of J).  Sites of one
        class share no bond, so the changes add up when all are applied."""
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------
    def initial_state(self, n_chains: int, generator, ordered: bool = False):
        """:meth:`initial_array` as a tensor on the device, its random spins seeded
        from the torch ``generator``."""
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        state = self.initial_array(n_chains, np.random.default_rng(seed), ordered)
        return torch.as_tensor(state, device=self.device)

    def magnetization(self, state) -> torch.Tensor:
        """Magnetisation per spin ``(n_chains, n_components)`` float64."""
        return self.order_vectors(state).mean(dim=1)

    def staggered_magnetization(self, state) -> torch.Tensor | None:
        """Staggered magnetisation per spin on bipartite lattices, else None."""
        sign = self.lattice.sublattice_sign
        if sign is None:
            return None
        sign = torch.as_tensor(sign, device=self.device)
        return (self.order_vectors(state) * sign[None, :, None]).mean(dim=1)

    def _neighbours(self, state, colour):
        """Yield ``(neighbour values (n_chains, n_c, ...), coupling)`` per
        neighbour slot of colour class ``colour``; coupling is a float or, for
        non-uniform couplings, ``(n_c,)`` (broadcast it over trailing axes)."""
        for index, coupling in self._slots[colour]:
            yield state.index_select(1, index), coupling

    def _local_field(self, state, colour):
        """``sum_j J_ij S_j`` for the sites of one colour class, ``(n_chains, n_c, ...)``."""
        local = None
        for values, J in self._neighbours(state, colour):
            if not isinstance(J, float):
                J = J.view(J.shape + (1,) * (values.dim() - 2))
            term = values * J if not (isinstance(J, float) and J == 1.0) else values
            local = term if local is None else local.add_(term)
        if local is None:
            local = torch.zeros_like(state.index_select(1, self.colours[colour]))
        return local



class Ising(SpinModel):
    """Ising model, spins +-1 (``float32`` for fast vectorised updates)."""

    def initial_array(self, n_chains, rng, ordered=False):
        if ordered:
            return np.ones((n_chains, self.n_sites), np.float32)
        return (2 * rng.integers(0, 2, (n_chains, self.n_sites)) - 1).astype(np.float32)

    def order_vectors(self, state):
        return state.to(torch.float64)[..., None]

    def order_array(self, state):
        return np.asarray(state, dtype=np.float64)[..., None]

    def energy(self, state):
        s = state.to(torch.float64)
        e = -(s[:, self._ci] * s[:, self._cj] * self._bond_J).sum(1)
        return e - (s * self.field).sum(1)

    def infinite_temperature(self) -> tuple[float, float]:
        return math.log(2.0), 0.0  # s and -s equally likely: every term averages to 0

    def propose(self, old, step, generator):
        return -old

    def delta_energy(self, state, colour, old, new):
        local = self._local_field(state, colour)
        if self.has_field:
            local += self.field[self.colours[colour]].to(local.dtype)
        return local.mul_(old).mul_(2.0)


def simplex_vertices(q: int) -> np.ndarray:
    """``(q, q - 1)`` unit vectors of the regular simplex, pairwise dot products
    ``-1/(q - 1)``: ``sqrt(q/(q-1)) (delta_k - 1/q)`` written in an orthonormal
    basis of the sum-zero subspace of R^q (its first vector along state 0)."""
    centred = np.eye(q) - 1.0 / q
    basis, _ = np.linalg.qr(centred[:, : q - 1])  # (q, q-1), spans the sum-zero subspace
    v = np.sqrt(q / (q - 1)) * centred @ basis
    return v * np.sign(v[0, 0])


class Potts(SpinModel):
    """q-state Potts model.  The order-parameter vector of state k is the
    standard one (Wu 1982): the k-th vertex of the regular simplex in
    ``q - 1`` dimensions, unit vectors with ``e_k . e_l = (q delta_kl - 1) / (q - 1)``,
    so the magnetisation is ``(q rho_k - 1) / (q - 1)`` along ``e_k`` when a
    fraction ``rho_k`` of the spins is in state k (1 when ordered, 0 on average
    when disordered).  For q = 3 these are the clock vectors at 120 degrees."""

    state_dtype_name = "int64"

    def __init__(self, lattice, q: int = 3, J=(1.0,), h=0.0, device="cpu"):
        if not isinstance(q, (int, np.integer)) or q < 2:
            raise InvalidValue("q", q, "an integer >= 2")
        self.q = int(q)
        self.n_components = self.q - 1
        super().__init__(lattice, J, h, device)
        self.vectors_np = simplex_vertices(self.q)

    @cached_property
    def _vectors(self):
        return torch.as_tensor(self.vectors_np, device=self.device)

    def initial_array(self, n_chains, rng, ordered=False):
        if ordered:
            return np.zeros((n_chains, self.n_sites), np.int64)
        return rng.integers(0, self.q, (n_chains, self.n_sites))

    def order_vectors(self, state):
        return self._vectors[state]

    def order_array(self, state):
        return self.vectors_np[state]

    def energy(self, state):
        same = (state[:, self._ci] == state[:, self._cj]).to(torch.float64)
        return -(same * self._bond_J).sum(1) - ((state == 0).to(torch.float64) * self.field).sum(1)

    def infinite_temperature(self) -> tuple[float, float]:
        """``(ln q, -(sum J + sum h) / (q N))``: a bond is satisfied with probability 1/q."""
        return math.log(self.q), -(float(self.bond_J.sum()) + float(self.field_np.sum())) / (self.q * self.n_sites)

    def propose(self, old, step, generator):
        shift = torch.randint(1, self.q, old.shape, generator=generator, device=self.device)
        return (old + shift) % self.q

    def delta_energy(self, state, colour, old, new):
        dE = torch.zeros(old.shape, dtype=self.coupling_dtype, device=self.device)
        for values, J in self._neighbours(state, colour):
            dE += ((values == old).to(dE.dtype) - (values == new).to(dE.dtype)) * J
        if self.has_field:
            f = self.field[self.colours[colour]].to(dE.dtype)
            dE -= f * ((new == 0).to(dE.dtype) - (old == 0).to(dE.dtype))
        return dE


class ONModel(SpinModel):
    """Classical O(n) model of unit n-vectors (n = 2: XY, n = 3: Heisenberg);
    the field points along the first axis."""

    state_dtype_name = "float64"
    coupling_dtype_name = "float64"

    def __init__(self, lattice, n: int, J=(1.0,), h=0.0, device="cpu"):
        self.n_components = int(n)
        super().__init__(lattice, J, h, device)

    def initial_array(self, n_chains, rng, ordered=False):
        shape = (n_chains, self.n_sites, self.n_components)
        if ordered:
            state = np.zeros(shape)
            state[..., 0] = 1.0
            return state
        v = rng.standard_normal(shape)
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    def order_vectors(self, state):
        return state

    def order_array(self, state):
        return np.asarray(state, dtype=np.float64)

    def energy(self, state):
        e = -((state[:, self._ci] * state[:, self._cj]).sum(-1) * self._bond_J).sum(1)
        return e - (state[..., 0] * self.field).sum(1)

    def infinite_temperature(self) -> tuple[float, float]:
        """``(ln of the sphere's area: ln 2 pi (XY), ln 4 pi (Heisenberg), 0)``: the
        entropy of continuous spins is relative to that measure."""
        n = self.n_components
        return math.log(2 * math.pi ** (n / 2) / math.gamma(n / 2)), 0.0

    def propose(self, old, step, generator):
        """Random move of width ``step`` (radians for XY), renormalised."""
        if self.n_components == 2:
            delta = (2 * torch.rand(old.shape[:-1], generator=generator, device=self.device,
                                    dtype=old.dtype) - 1) * step
            c, s = delta.cos(), delta.sin()
            x, y = old[..., 0], old[..., 1]
            return torch.stack([c * x - s * y, s * x + c * y], -1)
        kick = torch.randn(old.shape, generator=generator, device=self.device, dtype=old.dtype)
        new = old + step[..., None] * kick
        return new / new.norm(dim=-1, keepdim=True)

    def delta_energy(self, state, colour, old, new):
        local = self._local_field(state, colour)
        if self.has_field:
            local[..., 0] += self.field[self.colours[colour]]
        return -((new - old) * local).sum(-1)


def XY(lattice, J=(1.0,), h=0.0, device="cpu") -> ONModel:
    """Classical planar rotor (O(2)) model."""
    return ONModel(lattice, 2, J, h, device)


def Heisenberg(lattice, J=(1.0,), h=0.0, device="cpu") -> ONModel:
    """Classical Heisenberg (O(3)) model."""
    return ONModel(lattice, 3, J, h, device)
