"""The versioned HDF5 run file: a streaming writer and a reader.

Layout (schema version :data:`SCHEMA_VERSION`, see ``docs/hdf5-schema.md``)::

    /                          attrs: physbreak_schema, physbreak_version, config,
                                      seed, kind = "spin_mc", complete
    /systems/<name>/           attrs: lattice, size, n_sites, model, algorithm,
                                      samples_done, thermalization_done, complete
        temperature            (n_chains,)                         J/k_B
        replica                (n_chains,)
        energy                 (n_samples, n_chains)               J per spin
        magnetization          (n_samples, n_chains, n_components) per spin
        abs_magnetization      (n_samples, n_chains)               per spin
        staggered_magnetization(n_samples, n_chains, n_components) bipartite only
        helicity               (n_samples, n_chains, dim, 2)       O(n) on lattices: per axis a,
                               sum J (r.a)^2 (S_i.S_j)_xy and sum J (r.a) (S_i x S_j)_z, J
        vortex_density         (n_samples, n_chains)               XY, square/triangular; per site
        overlap, overlap_k     (n_samples, n_pairs)                disordered Ising, replicas >= 2: q and
                               |q(k_min)|^2 of replicas 2j, 2j+1 at each temperature
        work                   (n_samples, n_chains)               sweeps since last sample
        configuration          the state at the last checkpoint
        checkpoint/<name>      sampler state at the last checkpoint (RNG, step)

Stream datasets are chunked and resizable; only the first ``samples_done``
rows are valid (a killed run may leave a few more).  Everything is written
before the counters, and the file is flushed after every checkpoint, so a
killed run leaves a readable file that ``--resume`` continues.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from physbreak import __version__
from physbreak.errors import CorruptFileError, InvalidValue, OutputBusyError, OutputExistsError, SchemaError

SCHEMA_VERSION = 1
STREAMS = ("energy", "magnetization", "abs_magnetization", "staggered_magnetization", "helicity",
           "vortex_density", "overlap", "overlap_k", "modes", "work")
UNITS = {"temperature": "J/k_B", "energy": "J per spin", "magnetization": "per spin",
         "abs_magnetization": "per spin", "staggered_magnetization": "per spin",
         "helicity": "J (totals over bonds)", "vortex_density": "per site",
         "overlap": "q = (1/N) sum_i s_i^a s_i^b per replica pair", "overlap_k": "|q(k_min)|^2 per replica pair",
         "modes": "projections of each spin component on the high-symmetry site functions, over sqrt(N)",
         "work": "sweeps (n_sites single-spin updates) since the previous sample"}


def open_file(path, mode: str = "r") -> h5py.File:
    """Open a physbreak HDF5 file, checking that it is one this version reads.

    Raises:
        CorruptFileError: not HDF5, or no ``physbreak_schema`` attribute.
        SchemaError: written by a newer schema version.
    """
    from physbreak.io.claims import holder

    pid = holder(path)
    if pid is not None:  # HDF5 files are not safe to read while another process writes them
        raise OutputBusyError(f"FILE = {str(path)!r} is being written by process {pid} now: read it "
                              "when that run has finished")
    if mode != "r":  # check it read-only first: opening "r+" can write to a file that is not HDF5
        open_file(path).close()
    elif GUARD_SECONDS and Path(path).is_file():
        _check_in_child(path, GUARD_SECONDS)
    try:
        f = h5py.File(path, mode)
    except FileNotFoundError:
        raise CorruptFileError(f"FILE = {str(path)!r} does not exist: give an existing physbreak "
                               "HDF5 file") from None
    except OSError as exc:
        reason = " ".join(str(exc).split())  # HDF5 messages may hold newlines: one line
        raise CorruptFileError(f"FILE = {str(path)!r} is not a readable HDF5 file ({reason}); "
                               "re-run to a new output file") from None
    try:
        version = f.attrs.get("physbreak_schema")
        _check_structure(f)
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
        f.close()
        reason = " ".join(str(exc).split())
        raise CorruptFileError(f"FILE = {str(path)!r} is damaged ({reason}); re-run to a new output file") from None
    if version is None:
        f.close()
        raise CorruptFileError(f"FILE = {str(path)!r} has no 'physbreak_schema' attribute: "
                               "not a physbreak file")
    if int(version) > SCHEMA_VERSION:
        f.close()
        raise SchemaError(f"physbreak_schema = {int(version)} in {str(path)!r} is newer than "
                          f"this physbreak reads (<= {SCHEMA_VERSION}): upgrade physbreak")
    return f


GUARD_SECONDS = 0.0  # > 0 (the CLI sets it): read a file's metadata in a child process first, with this limit


def _check_in_child(path, seconds: float):
    """libhdf5 can loop forever on some damaged metadata (blocks without checksums,
    such as the global heap of string attributes); read it in a forked child and
    give up on the file if that does not finish in ``seconds``."""
    import time

    pid = os.fork()
    if pid == 0:  # the child: metadata only, then leave without running any clean-up
        try:
            with h5py.File(path, "r") as f:
                _check_structure(f)
        finally:
            os._exit(0)
    deadline = time.monotonic() + seconds
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise CorruptFileError(f"FILE = {str(path)!r} is damaged: HDF5 did not finish reading its metadata "
                                   f"in {seconds:g} s; re-run to a new output file")
        time.sleep(0.002)


def _check_structure(f: h5py.File):
    """Touch every group, attribute and chunk index, so damaged metadata is found
    on opening rather than halfway through an analysis (cheap: metadata only)."""
    def visit(name, obj):
        for key in obj.attrs:
            obj.attrs[key]
        if isinstance(obj, h5py.Dataset):
            obj.shape, obj.dtype
            if obj.chunks is not None:
                obj.id.get_num_chunks()

    for key in f.attrs:
        f.attrs[key]
    f.visititems(visit)


def create_file(path, attrs: dict, build=None) -> h5py.File:
    """A new physbreak file, opened ``"r+"``, with root ``attrs`` (plus the schema
    version) and whatever ``build(file)`` adds.

    The header is written under ``<path>.new`` and renamed into place, so ``path``
    never exists half-made: a run killed at any moment leaves no file or one that
    ``--resume`` reads.

    Raises:
        OutputExistsError: ``path`` exists.
        InvalidValue: ``path`` cannot be written.
    """
    path = Path(path)
    if path.exists():
        raise OutputExistsError(f"--out = {str(path)!r} exists: pass --resume to continue it, "
                                "or choose another output file")
    tmp = path.with_name(path.name + ".new")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"physbreak_schema": SCHEMA_VERSION, "physbreak_version": __version__, **attrs})
            if build is not None:
                build(f)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # e.g. the folder is a file: nothing was made
            pass
        if isinstance(exc, OSError):
            raise InvalidValue("--out", str(path), f"a writable file path ({exc})") from None
        raise
    return h5py.File(path, "r+")


class RunWriter:
    """Streams one Monte Carlo run into an HDF5 file.

    Args:
        path: the output file; created (must not exist) unless ``resume``.
        config_text: the run config as TOML, stored verbatim.
        seed: the run's master seed.
        resume: open an existing file for appending.
    """

    def __init__(self, path, config_text: str, seed: int, resume: bool = False):
        self.path = Path(path)
        if resume:
            self.file = open_file(self.path, "r+")
        else:
            self.file = create_file(self.path, {"kind": "spin_mc", "config": config_text, "seed": seed,
                                                "complete": False},
                                    lambda f: f.create_group("systems"))

    def system(self, name: str, attrs: dict, chains: dict, streams: dict, samples: int = 65536) -> h5py.Group:
        """The group of one system, created on first call.

        Args:
            attrs: metadata (lattice, size, model ...).
            chains: per-chain arrays, e.g. ``{"temperature": (n_chains,)}``.
            streams: stream name -> per-sample shape ``(n_chains, ...)``.
            samples: the rows the run will write; chunks hold at most that many
                (and at most 64 Ki values), so small runs make small files.
        """
        systems = self.file["systems"]
        if name in systems:
            return systems[name]
        g = systems.create_group(name)
        for key, value in attrs.items():
            g.attrs[key] = value
        g.attrs["samples_done"] = 0
        g.attrs["thermalization_done"] = 0
        g.attrs["complete"] = False
        for key, value in chains.items():
            g.create_dataset(key, data=value)
        for key, shape in streams.items():
            g.create_dataset(key, shape=(0,) + tuple(shape), maxshape=(None,) + tuple(shape),
                             dtype=np.float64,
                             chunks=(max(1, min(samples, 65536 // int(np.prod(shape)))),) + tuple(shape))
        for key in list(chains) + list(streams):
            if key in UNITS:
                g[key].attrs["units"] = UNITS[key]
        return g

    def checkpoint(self, group: h5py.Group, rows: dict, configuration: np.ndarray,
                   sampler_state: dict, thermalization_done: int):
        """Append sample rows, store the state to resume from, advance the
        counters and flush.  ``rows``: stream name -> ``(n_new, n_chains, ...)``."""
        done = int(group.attrs["samples_done"])
        n_new = len(next(iter(rows.values()))) if rows else 0
        for key, value in rows.items():
            if key not in group:  # a stream this file was created without (an older version's run)
                continue
            ds = group[key]
            ds.resize(done + n_new, axis=0)
            ds[done:done + n_new] = value
        _replace(group, "configuration", configuration)
        ck = group.require_group("checkpoint")
        for key, value in sampler_state.items():
            _replace(ck, key, np.asarray(value))
        group.attrs["thermalization_done"] = thermalization_done
        group.attrs["samples_done"] = done + n_new
        self.file.flush()

    def finish_system(self, group: h5py.Group):
        group.attrs["complete"] = True
        self.file.flush()

    def close(self, complete: bool = False):
        if complete:
            self.file.attrs["complete"] = True
        self.file.close()


def _replace(group, key, value):
    """Overwrite a fixed-shape dataset in place (created on first use)."""
    if key in group and group[key].shape == value.shape and group[key].dtype == value.dtype:
        group[key][...] = value
    else:
        if key in group:
            del group[key]
        group.create_dataset(key, data=value)


@dataclass
class SystemData:
    """The valid samples of one system, as numpy arrays."""

    name: str
    attrs: dict
    temperature: np.ndarray  # (n_chains,)
    replica: np.ndarray  # (n_chains,)
    streams: dict = field(default_factory=dict)  # name -> (n_samples, n_chains, ...)
    configuration: np.ndarray | None = None

    @property
    def n_sites(self) -> int:
        return int(self.attrs["n_sites"])


def read_run(path) -> tuple[dict, list[SystemData]]:
    """Read a run file: ``(root attributes, [SystemData per system])``."""
    with open_file(path) as f:
        root = dict(f.attrs)
        if "systems" not in f:
            raise CorruptFileError(f"FILE = {str(path)!r} has no /systems group: not a Monte Carlo run")
        out = []
        for name in f["systems"]:
            if not isinstance(f["systems"].get(name, getlink=True), h5py.HardLink):
                raise CorruptFileError(f"FILE = {str(path)!r}: /systems/{name} is a link to another file or "
                                       "object, not a system written here; physbreak does not follow it")
        try:
            for name, g in f["systems"].items():
                n = int(g.attrs["samples_done"])
                streams = {k: g[k][:n] for k in STREAMS if k in g}
                out.append(SystemData(name, dict(g.attrs), g["temperature"][:], g["replica"][:],
                                      streams, g["configuration"][:] if "configuration" in g else None))
        except KeyError as exc:
            raise CorruptFileError(f"FILE = {str(path)!r} lacks {exc}: re-run the simulation") from None
    return root, out
