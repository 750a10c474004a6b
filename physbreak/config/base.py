"""The schema layer every config kind is built on (pydantic v2).

A config kind is a :class:`Schema` subclass: unknown keys are refused, types
are strict (``output = 5`` is not turned into ``"5"``, ``true`` is not an
integer), numbers must be finite, every field has bounds and a description.
:func:`validate` turns the first pydantic error into a one-line
:class:`~physbreak.errors.ConfigError` naming the TOML field, the value and
what is allowed; the same models give the JSON Schema of ``physbreak schema``.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from physbreak.errors import ConfigError, InvalidValue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class Schema(BaseModel):
    """One TOML table: strict types, finite numbers, no unknown keys."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


Seed = Annotated[int, Field(ge=0, le=2**63 - 1, description="random seed, an integer >= 0")]
Device = Annotated[str, Field(pattern=r"^(cpu|cuda(:\d+)?)$", description="'cpu', 'cuda' or 'cuda:N'")]
Name = Annotated[str, Field(min_length=1, max_length=4096, pattern=r"^[^\x00\n\r]+$",
                            description="a file or folder name")]
Count = Annotated[int, Field(ge=1, le=10**9)]
Steps = Annotated[int, Field(ge=0, le=10**12)]


def rule(field: str, value, allowed: str) -> PydanticCustomError:
    """A cross-field rule broken inside a model validator: ``field`` is relative
    to the model the validator belongs to."""
    return PydanticCustomError("physbreak_rule", "{allowed}", {"field": field, "value": value, "allowed": allowed})


def load_text(path) -> str:
    """The text of a config file, or a :class:`ConfigError` naming it."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("CONFIG", str(path), f"a readable TOML file ({exc.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("CONFIG", str(path), "a UTF-8 TOML text file (this one is binary)") from None


def read_toml(text: str) -> dict:
    """TOML text as a dict; invalid TOML is a :class:`ConfigError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("CONFIG", "invalid TOML", f"valid TOML ({exc})") from None


def validate(model: type[Schema], raw, prefix: str = ""):
    """``raw`` (a TOML table) validated as ``model``; the first problem as a
    :class:`ConfigError` whose field is ``prefix`` + the TOML path."""
    if not isinstance(raw, dict):
        raise ConfigError(prefix or "CONFIG", _short(raw), "a TOML table")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        # a union reports every member: the deepest error, and one about the value rather than its type,
        # names the problem best
        best = max(exc.errors(), key=lambda e: (len(e["loc"]), not e["type"].endswith("_type")))
        raise _config_error(model, best, prefix) from None


def _short(value):
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."


def _config_error(model, error: dict, prefix: str) -> ConfigError:
    parts, current, described = [], model, None
    for part in error["loc"]:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            if error["type"] == "extra_forbidden" and part == error["loc"][-1]:
                parts.append(part)  # the unknown key itself
            continue  # else a union member's tag, not a TOML key
        parts.append(part)
        info = fields[part]
        described = info.description or described
        current = _inner_model(info.annotation)
    if error["type"] == "physbreak_rule":
        ctx = error["ctx"]
        parts.append(ctx["field"])
        return ConfigError(_join(prefix, parts), _short(ctx["value"]), ctx["allowed"])
    field = _join(prefix, parts)
    if error["type"] == "missing":
        return ConfigError(field, None, "this field is required" + (f"; {described}" if described else ""))
    if error["type"] == "extra_forbidden":
        allowed = ", ".join(getattr(current, "model_fields", {}))
        return ConfigError(field, _short(error["input"]), f"not a known field; allowed: {allowed}")
    message = _allowed(error)
    return ConfigError(field, _short(error["input"]), message + (f"; {described}" if described else ""))


BOUNDS = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="), "less_than": ("lt", "<"),
          "less_than_equal": ("le", "<=")}
TYPES = {"int_type": "an integer", "int_from_float": "an integer", "float_type": "a finite number",
         "finite_number": "a finite number", "bool_type": "true or false", "string_type": "a string",
         "list_type": "a list", "dict_type": "a TOML table", "model_type": "a TOML table",
         "model_attributes_type": "a TOML table"}


def _allowed(error: dict) -> str:
    """What is allowed, in the words of the TOML field rather than of pydantic."""
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in BOUNDS:
        key, op = BOUNDS[kind]
        noun = "an integer" if isinstance(ctx[key], int) else "a number"
        return f"{noun} {op} {ctx[key]}"
    if kind == "literal_error":
        return "one of " + ctx["expected"].replace("' or '", "', '")
    if kind == "too_short":
        return f"at least {ctx['min_length']} value(s)"
    if kind == "too_long":
        return f"at most {ctx['max_length']} value(s)"
    if kind in TYPES:
        return TYPES[kind]
    message = error["msg"][0].lower() + error["msg"][1:]
    return message[len("value error, "):] if message.startswith("value error, ") else message


def _join(prefix: str, parts: list[str]) -> str:
    parts = [p for p in parts if p]
    body = ".".join(parts).replace(".[", "[")
    if not prefix:
        return body or "CONFIG"
    if prefix.endswith(":"):
        return f"{prefix} {body}"
    return prefix + ("." + body if body and not body.startswith("[") else body)


def _inner_model(annotation):
    """The Schema class inside an annotation (``X``, ``X | None``, ``list[X]``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is Annotated:
        return _inner_model(typing.get_args(annotation)[0])
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None




def to_toml(data: dict, prefix: str = "") -> str:
    """Plain data (scalars, lists, tables, arrays of tables) as TOML text; ``prefix``
    is the dotted name of the table ``data`` is (for nested headers)."""
    lines = [f"{_key(k)} = {_toml_value(v)}" for k, v in data.items() if not _is_table(v)]
    for key, value in data.items():
        name = prefix + _key(key)
        if isinstance(value, dict):
            lines += ["", f"[{name}]", to_toml(value, name + ".").rstrip("\n")]
        elif _is_table(value):
            for table in value:
                lines += ["", f"[[{name}]]", to_toml(table, name + ".").rstrip("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _is_table(value) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and bool(value)
                                       and all(isinstance(v, dict) for v in value))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return repr(float(v)) if isinstance(v, float) else str(int(v))


def check_device(device: str):
    """Before a run starts: a ConfigError when ``device`` asks for CUDA and there is none."""
    if not device.startswith("cuda"):
        return
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device", device, "'cpu' (no CUDA device is available)")
    if device.startswith("cuda:") and int(device[5:]) >= torch.cuda.device_count():
        raise ConfigError("device", device, f"cuda:0 .. cuda:{torch.cuda.device_count() - 1}")


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
