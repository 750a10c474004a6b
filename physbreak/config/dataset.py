"""Ground-state dataset configs (``physbreak groundstates``; also the
``[[family]]`` tables of spin training configs): the schema, one params schema
per family, and the validated :class:`DatasetConfig` (``physbreak schema dataset``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import Field, model_validator

from physbreak.config.base import Name, Schema, Seed, fields, read_toml, rule, to_toml, validate
from physbreak.problems.spin_families import FAMILIES
from physbreak.problems.structure_families import CASE_FAMILIES
from physbreak.problems.structure_families import cases as structure_cases

Real = Annotated[float, Field(ge=-1e3, le=1e3)]
Range = Annotated[list[Real], Field(min_length=2, max_length=2)]
Files = Annotated[str, Field(min_length=1)] | Annotated[list[Annotated[str, Field(min_length=1)]],
                                                        Field(min_length=1)]


class UniformParams(Schema):
    J1: list[Real] = Field([1.0, -1.0], min_length=1, description="nearest-neighbour couplings drawn from")
    J2: Range = Field([-1.0, 0.3], description="[lo, hi] of the uniform next-nearest coupling")
    anisotropy: Annotated[float, Field(ge=0, le=1)] = Field(0.5, description="largest |Jy/Jx - 1|")
    field: Real = Field(0.5, description="largest |h|")
    field_probability: Annotated[float, Field(ge=0, le=1)] = 0.3


class FrustratedParams(Schema):
    lattices: list[Literal["triangular", "kagome"]] = Field(["triangular", "kagome"], min_length=1)
    field: Real = 0.0


class SpinGlassParams(Schema):
    couplings: Literal["pm", "gaussian"] = "pm"


class PlantedParams(Schema):
    generators: Annotated[int, Field(ge=1, le=16)] = Field(2, description="random generators of the subgroup")
    field: Real = 0.5


class MaxcutParams(Schema):
    graphs: list[Literal["cycle", "circulant", "petersen", "hypercube", "regular"]] = Field(
        ["cycle", "circulant", "petersen", "hypercube", "regular"], min_length=1)


class Batio3Params(Schema):
    parents: str | Annotated[list[str], Field(min_length=1)] = Field("TORC", description="letters of TORC or a list")


class GlazerParams(Schema):
    systems: Annotated[list[str], Field(min_length=1)] | None = Field(None, description="tilted Glazer systems")
    angles: Range = Field([3.0, 12.0], description="[lo, hi] degrees")


class PolarTiltParams(Schema):
    target: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        "R3c", description="the isotropy subgroup of Gamma4- + R4+ (Hermann-Mauguin)")
    volume: Range = Field([0.01, 0.03], description="[lo, hi] volume strain (R4+ amplitude 20 |e_v| A)")
    shear: Range = Field([0.005, 0.02], description="[lo, hi] polar-axis strain (Gamma4- amplitude 15 e_s A)")


class MoleculesParams(Schema):
    molecules: Annotated[list[str], Field(min_length=1)] | None = None


class StructuresParams(Schema):
    files: Files | None = Field(None, description="structure files: the input first, then ground-state targets")
    inputs: Files | None = None
    targets: list[str | list[str]] | None = Field(None, description="one file or list of files per input")


class CouplingsParams(Schema):
    files: Files = Field(description="spin couplings files (.toml, .txt, .h5)")


PARAMS = {"uniform": UniformParams, "frustrated": FrustratedParams, "spin_glass": SpinGlassParams,
          "planted": PlantedParams, "maxcut": MaxcutParams, "batio3": Batio3Params, "glazer": GlazerParams,
          "polar_tilt": PolarTiltParams, "molecules": MoleculesParams, "structures": StructuresParams, "couplings": CouplingsParams}
NAMES = tuple(FAMILIES) + CASE_FAMILIES


class FamilyTable(Schema):
    name: Literal[NAMES] = Field(description="a spin family (with sizes) or a structure / couplings family")
    split: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.-]+$")] = Field(
        "train", description="a label records are selected by")
    sizes: list[Annotated[int, Field(ge=2, le=256)]] | None = Field(
        None, min_length=1, description="spin families: linear sizes or vertex counts")
    count: Annotated[int, Field(ge=1, le=10**6)] = Field(1, description="problems per size or case")
    params: dict = Field({}, description="family-specific, see physbreak.problems.spin_families and "
                         "structure_families")

    @model_validator(mode="after")
    def _sizes(self):
        if self.name in CASE_FAMILIES and self.sizes is not None:
            raise rule("sizes", self.sizes, f"no sizes for the {self.name} family (its cases come from params)")
        if self.name not in CASE_FAMILIES and self.sizes is None:
            raise rule("sizes", None, "required: integers >= 2")
        return self


class DatasetSchema(Schema):
    """A ground-state dataset: spin problems by family and size, structures by case."""

    family: list[FamilyTable] = Field(min_length=1, max_length=256, description="[[family]] tables")
    seed: Seed = 0
    output: Name = "groundstates.h5"
    exact_limit: Annotated[int, Field(ge=2, le=40)] = Field(30, description="exact enumeration up to this "
                                                             "many spins, annealing search beyond")


@dataclass(frozen=True)
class FamilySpec:
    name: str
    split: str
    sizes: tuple[int, ...]
    count: int
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetConfig:
    families: tuple[FamilySpec, ...]
    seed: int = 0
    output: str = "groundstates.h5"
    exact_limit: int = 30
    text: str = ""


def parse(text: str) -> DatasetConfig:
    return resolve(validate(DatasetSchema, read_toml(text)), text)


def resolve(s: DatasetSchema, text: str) -> DatasetConfig:
    specs = []
    for k, fam in enumerate(s.family):
        params = validate(PARAMS[fam.name], fam.params, f"family[{k}].params")
        params = params.model_dump(exclude_unset=True)
        if fam.name in CASE_FAMILIES:
            with fields({}, f"family[{k}]."):
                structure_cases(fam.name, params)  # files exist, names known: now, not halfway through the run
        specs.append(FamilySpec(fam.name, fam.split, tuple(fam.sizes or ()), fam.count, params))
    return DatasetConfig(tuple(specs), s.seed, s.output, s.exact_limit, text)


def dataset_text(s: DatasetSchema) -> str:
    """The dataset part of a config as TOML text (stored on the dataset file)."""
    return to_toml({"seed": s.seed, "exact_limit": s.exact_limit,
                    "family": [f.model_dump(exclude_unset=True) for f in s.family]})
