"""Training configs for spin ground states (no ``kind``) and structures
(``kind = "structures"``): schemas and validated values (``physbreak schema
train`` / ``structures``).  The graph kinds are in :mod:`physbreak.config.graphs`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, model_validator

from physbreak.config.base import Device, Name, Schema, Seed, rule, validate
from physbreak.config.dataset import DatasetConfig, FamilyTable
from physbreak.config.dataset import dataset_text, resolve as resolve_dataset
from physbreak.learn.spin import MODELS
from physbreak.learn.structure import STRUCTURE_BREAKERS
from physbreak.problems.batio3 import PARENTS

Epochs = Annotated[int, Field(ge=1, le=100_000, description="training epochs")]
Batch = Annotated[int, Field(ge=1, le=100_000, description="problems per minibatch")]
Rate = Annotated[float, Field(gt=0, le=1, description="Adam learning rate, in (0, 1]")]
Width = Annotated[int, Field(ge=1, le=4096, description="hidden features")]
Problems = Annotated[int, Field(ge=1, le=100_000)]
Cutoff = Annotated[float, Field(ge=1.0, le=12.0, description="neighbour cutoff, A, in [1, 12]")]
Split = Annotated[str, Field(min_length=1, max_length=64, description="a split name")]


def names(allowed: tuple[str, ...], description: str):
    """A non-empty list of names (a single name is a list of one)."""
    one = Literal[allowed]
    return Annotated[one | Annotated[list[one], Field(min_length=1, max_length=len(allowed))],
                     Field(description=description)]


def as_tuple(value) -> tuple:
    return tuple(value) if isinstance(value, list) else (value,)


ModelNames = names(MODELS, "models to train")
StructureBreakers = names(STRUCTURE_BREAKERS, "breakers to train")


class SpinTrainTable(Schema):
    epochs: Epochs = 30
    batch_size: Batch = 16
    lr: Rate = 3e-3
    hidden: Width = 32
    layers: Annotated[int, Field(ge=1, le=256, description="message-passing rounds")] = 12


class SpinTrainSchema(Schema):
    """A spin ground-state benchmark: [[family]] tables (or an existing dataset file) x models."""

    seed: Seed = 0
    device: Device = "cpu"
    output: Name = Field("groundstates_benchmark", description="folder: checkpoints/, results/, the report")
    dataset: Name = Field("groundstates.h5", description="made from the [[family]] tables if missing")
    models: ModelNames = list(MODELS)
    train: SpinTrainTable = SpinTrainTable()
    exact_limit: Annotated[int, Field(ge=2, le=40)] = 30
    family: list[FamilyTable] | None = Field(None, min_length=1, max_length=256)


@dataclass(frozen=True)
class TrainConfig:
    """A spin ground-state benchmark."""

    dataset: DatasetConfig | None
    dataset_path: str
    output: str
    models: tuple[str, ...]
    seed: int = 0
    device: str = "cpu"
    epochs: int = 30
    batch_size: int = 16
    lr: float = 3e-3
    hidden: int = 32
    layers: int = 12
    text: str = ""


def parse_spins(raw: dict, text: str) -> TrainConfig:
    from physbreak.config.dataset import DatasetSchema

    s = validate(SpinTrainSchema, raw)
    dataset = None
    if s.family is not None:
        ds = DatasetSchema(family=s.family, seed=s.seed, exact_limit=s.exact_limit)
        dataset = resolve_dataset(ds, dataset_text(ds))
    t = s.train
    return TrainConfig(dataset, s.dataset, s.output, as_tuple(s.models), s.seed, s.device, t.epochs, t.batch_size,
                       t.lr, t.hidden, t.layers, text)


BUILT_IN = ("batio3", "molecules", "glazer", "polar_tilt")


class Batio3Table(Schema):
    parents: str | Annotated[list[Literal[PARENTS]], Field(min_length=1)] = Field(
        "TORC", description="letters of TORC, or a list with 'C4' / 'C2': cubic held in P4mm / Amm2")
    train: Problems = Field(40, description="problems per parent")
    test: Problems = 10
    epochs: Epochs = 100
    breaking: Literal["point_group", "isotropy"] = Field(
        "point_group", description="the symmetry-breaking set: the target point group's (what predict --target "
        "builds), or a Gamma4- field built from isotropy subgroups")

    @model_validator(mode="after")
    def _letters(self):
        if isinstance(self.parents, str) and (not self.parents or any(k not in PARENTS for k in self.parents)):
            raise rule("parents", self.parents, f"letters of TORC, or a list of {', '.join(PARENTS)}")
        return self


class MoleculesTable(Schema):
    train: Problems = Field(16, description="inputs per molecule")
    test: Problems = 3
    epochs: Epochs = 300


class GlazerTable(Schema):
    train: Problems = Field(8, description="angle sets per tilt system")
    test: Problems = 5
    angles: Annotated[list[Annotated[float, Field(gt=0, lt=30)]], Field(min_length=2, max_length=2)] = Field(
        [3.0, 12.0], description="[lo, hi] degrees with 0 < lo < hi < 30")
    epochs: Epochs = 80
    cutoff: Cutoff = 3.5

    @model_validator(mode="after")
    def _order(self):
        if not self.angles[0] < self.angles[1]:
            raise rule("angles", self.angles, "[lo, hi] degrees with 0 < lo < hi < 30")
        return self


Range = Annotated[list[Annotated[float, Field(gt=0, lt=0.1)]], Field(min_length=2, max_length=2)]


class PolarTiltTable(Schema):
    train: Problems = Field(40, description="problems")
    test: Problems = 20
    target: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        "R3c", description="the isotropy subgroup of Gamma4- + R4+ to reach (Hermann-Mauguin)")
    volume: Range = Field([0.01, 0.03], description="[lo, hi] volume strain: R4+ amplitude 20 |e_v| A")
    shear: Range = Field([0.005, 0.02], description="[lo, hi] strain along the polar axis: Gamma4- amplitude "
                         "15 e_s A")
    epochs: Epochs = 80
    cutoff: Cutoff = 3.5

    @model_validator(mode="after")
    def _order(self):
        for key in ("volume", "shear"):
            lo, hi = getattr(self, key)
            if not lo < hi:
                raise rule(key, [lo, hi], "[lo, hi] with 0 < lo < hi < 0.1")
        return self


class FilesTable(Schema):
    epochs: Epochs = 100
    cutoff: Cutoff = 4.5
    train_split: Split = "train"
    test_split: Split = "test"


class StructuresSchema(Schema):
    """A structure-prediction benchmark: datasets (built in or groundstates files) x breakers."""

    kind: Literal["structures"]
    seed: Seed = 0
    output: Name = "structures_benchmark"
    device: Device = "cpu"
    tensor_products: Literal["e3nn", "cuequivariance"] = Field(
        "e3nn", description="the edge tensor products' library (cuequivariance: pip install cuequivariance-torch)")
    breakers: StructureBreakers = list(STRUCTURE_BREAKERS)
    datasets: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=64)] = Field(
        list(BUILT_IN), description=f"{', '.join(BUILT_IN)} or .h5 files written by `physbreak groundstates`")
    batio3: Batio3Table = Batio3Table()
    molecules: MoleculesTable = MoleculesTable()
    glazer: GlazerTable = GlazerTable()
    polar_tilt: PolarTiltTable = PolarTiltTable()
    files: FilesTable = FilesTable()

    @model_validator(mode="after")
    def _datasets(self):
        for d in self.datasets:
            if d not in BUILT_IN and not d.endswith(".h5"):
                raise rule("datasets", d, f"a list of {', '.join(BUILT_IN)} or .h5 files written by "
                           "`physbreak groundstates`")
        return self


@dataclass(frozen=True)
class StructuresConfig:
    """A structure-prediction benchmark."""

    output: str
    breakers: tuple[str, ...]
    datasets: tuple[str, ...]
    options: dict = field(default_factory=dict)  # dataset name (or "files") -> its table
    seed: int = 0
    device: str = "cpu"
    tensor_products: str = "e3nn"


def parse_structures(raw: dict) -> StructuresConfig:
    s = validate(StructuresSchema, raw)
    options = {name: getattr(s, name).model_dump() for name in BUILT_IN + ("files",)}
    options["batio3"]["parents"] = list(s.batio3.parents)
    return StructuresConfig(s.output, as_tuple(s.breakers), tuple(s.datasets), options, s.seed, s.device,
                            s.tensor_products)
