"""Configs: TOML -> validated values, one pydantic schema per kind.

Every problem is reported as a :class:`~physbreak.errors.ConfigError` naming
the field (``section.key``), the value and what is allowed.  :data:`KINDS`
maps each kind to its schema; ``physbreak schema KIND`` prints its JSON Schema.
"""

from physbreak.config.base import check_device, fields, load_text, read_toml, validate
from physbreak.config.run import LatticeConfig, ModelConfig, RunConfig, SamplerConfig, load, parse

__all__ = ["LatticeConfig", "ModelConfig", "RunConfig", "SamplerConfig", "check_device", "fields", "load",
           "load_text", "parse", "read_toml", "validate"]


def schemas() -> dict:
    """Every config kind -> its pydantic schema (``physbreak schema KIND``)."""
    from physbreak.config.dataset import DatasetSchema
    from physbreak.config.graphs import SCHEMAS as GRAPHS
    from physbreak.config.perovskite import PerovskiteSchema
    from physbreak.config.run import RunSchema
    from physbreak.config.sweep import SweepSchema
    from physbreak.config.train import SpinTrainSchema, StructuresSchema

    return {"run": RunSchema, "perovskite": PerovskiteSchema, "sweep": SweepSchema, "dataset": DatasetSchema,
            "train": SpinTrainSchema, "structures": StructuresSchema, **GRAPHS}


def json_schema(kind: str) -> dict:
    """The JSON Schema of one config kind, or of any config (``kind = "all"``)."""
    from typing import Union

    from pydantic import TypeAdapter

    from physbreak.errors import ConfigError

    found = schemas()
    if kind == "all":
        schema = TypeAdapter(Union[tuple(found.values())]).json_schema()
        schema["title"] = "any physbreak config"
    elif kind in found:
        schema = found[kind].model_json_schema()
    else:
        raise ConfigError("KIND", kind, f"one of {', '.join(found)}, all")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
