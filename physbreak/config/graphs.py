"""Training configs of the graph domains: ``kind = "decoding"``,
``"classification"``, ``"colouring"`` (``physbreak schema decoding`` ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from physbreak.config.base import Device, Name, Schema, Seed, rule, validate
from physbreak.config.train import Batch, Epochs, Rate, Width, as_tuple, names
from physbreak.learn.colouring import COLOURING_BREAKERS
from physbreak.learn.decoding import DECODER_BREAKERS
from physbreak.learn.graph_classification import CLASSIFIER_BREAKERS
from physbreak.problems.graph_files import SUFFIXES

Fraction = Annotated[float, Field(gt=0, lt=1, description="a fraction in (0, 1)")]
SizeRange = Annotated[list[Annotated[int, Field(ge=3, le=64)]], Field(
    min_length=2, max_length=2, description="[lo, hi] node counts, 3 <= lo <= hi <= 64")]
Graphs = Annotated[int, Field(ge=1, le=100_000)]


class DecodingTrain(Schema):
    epochs: Epochs = 50
    batch_size: Batch = 32
    lr: Rate = 3e-3
    hidden: Width = 64
    latent: Width = 64


class ClassificationTrain(Schema):
    epochs: Epochs = 60
    batch_size: Batch = 16
    lr: Rate = 3e-3
    hidden: Width = 32


class ColouringTrain(Schema):
    epochs: Epochs = 80
    batch_size: Batch = 16
    lr: Rate = 3e-3
    hidden: Width = 48


class AtlasTable(Schema):
    test_fraction: Fraction = Field(0.2, description="of the 6- and 7-node graphs, held out")
    epochs: Epochs | None = None


class FamiliesTable(Schema):
    train_sizes: SizeRange = [8, 16]
    test_sizes: SizeRange = [8, 20]
    train_per_size: Graphs = Field(10, description="per family and size")
    test_per_size: Graphs = 2
    epochs: Epochs | None = None

    @model_validator(mode="after")
    def _order(self):
        for key in ("train_sizes", "test_sizes"):
            lo, hi = getattr(self, key)
            if lo > hi:
                raise rule(key, [lo, hi], "[lo, hi] node counts, 3 <= lo <= hi <= 64")
        return self


class CslTable(Schema):
    train_per_class: Annotated[int, Field(ge=1, le=14)] = Field(10, description="of 15; the rest test")
    epochs: Epochs | None = None


class SymmetricTable(Schema):
    train: Graphs = Field(200, description="random training graphs, 6-16 nodes")
    epochs: Epochs | None = None


class GraphSchema(Schema):
    seed: Seed = 0
    device: Device = "cpu"
    output: Name | None = Field(None, description="folder (default: KIND_benchmark)")
    max_nodes: Annotated[int, Field(ge=1, le=256)] = Field(20, description="the largest graph a model takes")
    seeds: Annotated[int, Field(ge=1, le=100)] | None = Field(None, description="models (and splits) per breaker")
    relabellings: Annotated[int, Field(ge=1, le=1000)] = Field(5, description="random relabellings per test graph")

    @model_validator(mode="after")
    def _datasets(self):
        built_in = BUILT_IN[self.kind]
        for d in as_tuple(self.datasets):
            if not isinstance(d, str) or (d not in built_in and not (
                    self.kind != "classification" and Path(d).suffix.lower() in SUFFIXES)):
                allowed = ", ".join(built_in)
                if self.kind != "classification":
                    allowed += f" or a graph file ({', '.join(SUFFIXES)})"
                raise rule("datasets", d, f"a list of {allowed}")
        return self


DecoderBreakers = names(DECODER_BREAKERS, "breakers to train")
ClassifierBreakers = names(CLASSIFIER_BREAKERS, "breakers to train")
ColouringBreakers = names(COLOURING_BREAKERS, "breakers to train")
DatasetNames = Annotated[str | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)],
                         Field(description="built-in datasets or graph files")]


class DecodingSchema(GraphSchema):
    """Graph autoencoders: decode a graph from a permutation-invariant latent."""

    kind: Literal["decoding"]
    breakers: DecoderBreakers = list(DECODER_BREAKERS)
    datasets: DatasetNames = ["atlas", "families"]
    train: DecodingTrain = DecodingTrain()
    atlas: AtlasTable = AtlasTable()
    families: FamiliesTable = FamiliesTable()

    @model_validator(mode="after")
    def _fits(self):
        if "families" in as_tuple(self.datasets) and self.families.test_sizes[1] > self.max_nodes:
            raise rule("families.test_sizes", self.families.test_sizes, f"sizes up to max_nodes = {self.max_nodes}")
        return self


class ClassificationSchema(GraphSchema):
    """Graph classification under relabellings (CSL, atlas bipartite)."""

    kind: Literal["classification"]
    breakers: ClassifierBreakers = list(CLASSIFIER_BREAKERS)
    datasets: DatasetNames = ["csl", "atlas_bipartite"]
    train: ClassificationTrain = ClassificationTrain()
    csl: CslTable = CslTable()
    atlas_bipartite: AtlasTable = AtlasTable()


class ColouringSchema(GraphSchema):
    """Proper q-colourings (Potts antiferromagnet ground states) of symmetric graphs."""

    kind: Literal["colouring"]
    breakers: ColouringBreakers = list(COLOURING_BREAKERS)
    datasets: DatasetNames = ["symmetric"]
    train: ColouringTrain = ColouringTrain()
    symmetric: SymmetricTable = SymmetricTable()


SCHEMAS = {"decoding": DecodingSchema, "classification": ClassificationSchema, "colouring": ColouringSchema}
KINDS = tuple(SCHEMAS)
BUILT_IN = {"decoding": ("atlas", "families"), "classification": ("csl", "atlas_bipartite"),
            "colouring": ("symmetric",)}


@dataclass(frozen=True)
class GraphsConfig:
    kind: str
    output: str
    breakers: tuple[str, ...]
    datasets: tuple[str, ...]
    train: dict
    options: dict = field(default_factory=dict)  # built-in dataset -> its table, `epochs` filled in
    seed: int = 0
    seeds: int = 1
    relabellings: int = 5
    max_nodes: int = 20
    device: str = "cpu"


def parse(raw: dict) -> GraphsConfig:
    s = validate(SCHEMAS[raw["kind"]], raw)
    train = s.train.model_dump()
    options = {}
    for name in BUILT_IN[s.kind]:
        opts = getattr(s, name).model_dump()
        opts["epochs"] = opts["epochs"] or train["epochs"]
        options[name] = opts
    return GraphsConfig(s.kind, s.output or f"{s.kind}_benchmark", as_tuple(s.breakers), as_tuple(s.datasets),
                        train, options, s.seed, s.seeds or (5 if s.kind == "classification" else 1),
                        s.relabellings, s.max_nodes, s.device)
