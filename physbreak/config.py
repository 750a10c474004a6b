"""Run configurations: a TOML file -> validated, frozen dataclasses.

Every problem is reported as a :class:`~physbreak.errors.ConfigError` naming
the field (``section.key``), the value and what is allowed.  See
``simulations/ising2d_critical.toml`` for a commented example.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from physbreak.errors import ConfigError, InvalidValue
from physbreak.lattice import KINDS as LATTICES
from physbreak.mc import ALGORITHMS
from physbreak.systems import MODELS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DISORDER = ("none", "pm", "gaussian")


@dataclass(frozen=True)
class LatticeConfig:
    kind: str
    sizes: tuple[tuple[int, ...], ...]  # one linear size per system, e.g. ((8, 8), (16, 16))
    periodic: bool = True


@dataclass(frozen=True)
class ModelConfig:
    kind: str
    J: tuple[float, ...] = (1.0,)  # per bond shell, J > 0 ferromagnetic (units of J)
    h: float = 0.0  # uniform field (units of J)
    q: int = 3  # Potts states
    disorder: str = "none"  # "pm": J1 * (+-1) per bond; "gaussian": J1 * N(0, 1) per bond
    disorder_seed: int = 0


@dataclass(frozen=True)
class SamplerConfig:
    algorithm: str = "metropolis"
    thermalization: int = 1000  # sweeps (sweep-equivalents for Wolff) before sampling
    samples: int = 1000  # measurements per chain
    sweeps_per_sample: int = 1
    replicas: int = 1  # independent chains per temperature
    step: float = 1.0  # initial proposal width for continuous spins
    start: str = "random"  # or "ordered"
    flush_seconds: float = 10.0  # checkpoint interval, wall-clock seconds


@dataclass(frozen=True)
class RunConfig:
    """A whole simulation: every system size at every temperature."""

    lattice: LatticeConfig
    model: ModelConfig
    sampler: SamplerConfig
    temperatures: tuple[float, ...]  # units of J/k_B
    seed: int = 0
    device: str = "cpu"
    output: str = "run.h5"
    text: str = ""  # the TOML text this was parsed from

    @property
    def n_chains(self) -> int:
        return len(self.temperatures) * self.sampler.replicas


def load_text(path) -> str:
    """The text of a config file, or a :class:`ConfigError` naming it."""
    path = Path(path)
    try:
        return path.read_text()
    except OSError as exc:
        raise ConfigError("CONFIG", str(path), f"a readable TOML file ({exc.strerror})") from None


def load(path) -> RunConfig:
    """Read and validate a TOML run config."""
    return parse(load_text(path))


def read_toml(text: str) -> dict:
    """TOML text as a dict; invalid TOML is a :class:`ConfigError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", "invalid TOML", f"valid TOML ({exc})") from None


def positive_number(value, field: str) -> float:
    """``value`` as a float > 0, or a :class:`ConfigError` naming ``field``."""
    return _positive(value, field)


def parse(text: str) -> RunConfig:
    """Validate a TOML run config given as text."""
    raw = read_toml(text)
    top = Section(raw, "", required=("lattice", "model", "temperatures"),
                   optional=("seed", "device", "output", "sampler"))
    lat = Section(top.subtable("lattice"), "lattice", ("kind", "sizes"), ("periodic",))
    kind = lat.choice("kind", LATTICES)
    sizes = tuple(_size(s, "lattice.sizes") for s in lat.list("sizes"))
    if not sizes:
        raise ConfigError("lattice.sizes", [], "at least one size")
    mod = Section(top.subtable("model"), "model", ("kind",), ("J", "h", "q", "disorder", "disorder_seed"))
    J = mod.get("J", [1.0])
    J = tuple(_number(j, "model.J") for j in (J if isinstance(J, list) else [J]))
    model = ModelConfig(kind=mod.choice("kind", MODELS), J=J,
                        h=_number(mod.get("h", 0.0), "model.h"),
                        q=mod.integer("q", 3, minimum=2),
                        disorder=mod.choice("disorder", DISORDER, "none"),
                        disorder_seed=mod.integer("disorder_seed", 0, minimum=0))
    smp = Section(top.subtable("sampler", {}), "sampler", (),
                   ("algorithm", "thermalization", "samples", "sweeps_per_sample", "replicas",
                    "step", "start", "flush_seconds"))
    sampler = SamplerConfig(
        algorithm=smp.choice("algorithm", ALGORITHMS, "metropolis"),
        thermalization=smp.integer("thermalization", 1000, minimum=0),
        samples=smp.integer("samples", 1000, minimum=1),
        sweeps_per_sample=smp.integer("sweeps_per_sample", 1, minimum=1),
        replicas=smp.integer("replicas", 1, minimum=1),
        step=_positive(smp.get("step", 1.0), "sampler.step"),
        start=smp.choice("start", ("random", "ordered"), "random"),
        flush_seconds=_number(smp.get("flush_seconds", 10.0), "sampler.flush_seconds"))
    device = device_of(top)
    seed = top.integer("seed", 0, minimum=0)
    output = top.get("output", "run.h5")
    if not isinstance(output, str) or not output:
        raise ConfigError("output", output, "a file name")
    return RunConfig(lattice=LatticeConfig(kind, sizes, _bool(lat.get("periodic", True), "lattice.periodic")),
                     model=model, sampler=sampler, temperatures=_temperatures(top.subtable("temperatures")),
                     seed=seed, device=device, output=output, text=text)


def _temperatures(table) -> tuple[float, ...]:
    sec = Section(table, "temperatures", (), ("values", "start", "stop", "num"))
    if "values" in table:
        values = [_number(t, "temperatures.values") for t in sec.list("values")]
    else:
        for key in ("start", "stop", "num"):
            if key not in table:
                raise ConfigError(f"temperatures.{key}", None,
                                  "required (or give temperatures.values = [...])")
        values = np.linspace(_number(table["start"], "temperatures.start"),
                             _number(table["stop"], "temperatures.stop"),
                             sec.integer("num", 0, minimum=1)).tolist()
    if not values:
        raise ConfigError("temperatures.values", [], "at least one temperature")
    for t in values:
        if not t > 0:
            raise ConfigError("temperatures", t, "temperatures > 0 (units of J/k_B)")
    return tuple(float(t) for t in values)


class Section:
    """One TOML table with its allowed keys; every config reader uses it so that
    all configs report errors the same way."""

    def __init__(self, table, name, required=(), optional=()):
        if not isinstance(table, dict):
            raise ConfigError(name, table, "a TOML table [" + name + "]")
        self.data, self.name = table, name
        for key in required:
            if key not in table:
                raise ConfigError(self._field(key), None, "this field is required")
        allowed = tuple(required) + tuple(optional)
        for key in table:
            if key not in allowed:
                raise ConfigError(self._field(key), table[key],
                                  f"not a known field; allowed: {', '.join(allowed)}")

    def _field(self, key):
        return f"{self.name}.{key}" if self.name else key

    def get(self, key, default=None):
        return self.data.get(key, default)

    def subtable(self, key, default=None):
        value = self.data.get(key, default)
        if not isinstance(value, dict):
            raise ConfigError(self._field(key), value, f"a TOML table [{self._field(key)}]")
        return value

    def list(self, key):
        value = self.data[key]
        if not isinstance(value, list):
            raise ConfigError(self._field(key), value, "a list")
        return value

    def choice(self, key, allowed, default=None):
        value = self.data.get(key, default)
        if value not in allowed:
            raise ConfigError(self._field(key), value, f"one of {', '.join(allowed)}")
        return value

    def names(self, key, default, allowed, check=None) -> list:
        """A non-empty list of names (a single name is a list of one): each in
        ``allowed`` (a sequence), or passing ``check`` with ``allowed`` the text
        that says what is allowed."""
        text = allowed if isinstance(allowed, str) else ", ".join(allowed)
        check = check or (lambda v: v in allowed)
        values = self.data.get(key, list(default))
        values = values if isinstance(values, list) else [values]
        if not values:
            raise ConfigError(self._field(key), values, f"a non-empty list of {text}")
        for v in values:
            if not check(v):
                raise ConfigError(self._field(key), v, f"a list of {text}")
        return values

    def integer(self, key, default, minimum=None):
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            raise ConfigError(self._field(key), value, f"an integer >= {minimum}")
        return value


def _size(value, field):
    sizes = value if isinstance(value, list) else [value]
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ConfigError(field, value, "positive integers (L or [Lx, Ly, ...])")
    return tuple(sizes)


def _number(value, field):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ConfigError(field, value, "a finite number")
    return float(value)


def _positive(value, field):
    value = _number(value, field)
    if value <= 0:
        raise ConfigError(field, value, "a number > 0")
    return value


def _bool(value, field):
    if not isinstance(value, bool):
        raise ConfigError(field, value, "true or false")
    return value


def device_of(top: Section) -> str:
    """A config's ``device``: ``"cpu"`` (default), ``"cuda"`` or ``"cuda:N"``."""
    device = top.get("device", "cpu")
    if not isinstance(device, str) or not (device == "cpu" or device.startswith("cuda")):
        raise ConfigError("device", device, "'cpu', 'cuda' or 'cuda:N'")
    return device


def check_device(device: str):
    """Before a run starts: a ConfigError when ``device`` asks for CUDA and there is none."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", device, "'cpu' (no CUDA device is available)")


@contextmanager
def fields(mapping: dict[str, str], prefix: str = ""):
    """Report library :class:`InvalidValue` errors raised inside as
    :class:`ConfigError` under the TOML field their argument came from
    (``mapping[argument]``, else ``prefix + argument``)."""
    try:
        yield
    except ConfigError:
        raise
    except InvalidValue as exc:
        raise ConfigError(mapping.get(exc.field, prefix + exc.field), exc.value, exc.allowed) from None
