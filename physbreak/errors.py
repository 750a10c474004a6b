"""Every error physbreak raises on bad input.

Each class says when it is raised and how to fix the cause.  All derive from
:class:`PhysbreakError`; the CLI prints such an error as one line on stderr and
exits with code 2.
"""


class PhysbreakError(Exception):
    """Base class of all physbreak input errors."""


class ConfigError(PhysbreakError, ValueError):
    """A run configuration field is missing, has the wrong type or a value
    outside the allowed set.  The message names the field (``section.key``),
    the value given and what is allowed; fix that field in the TOML file."""

    def __init__(self, field: str, value, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {value!r} is not allowed: {allowed}")


class SchemaError(PhysbreakError):
    """An HDF5 file was written by a newer physbreak (a higher
    ``physbreak_schema`` version) than this one reads.  Upgrade physbreak."""


class CorruptFileError(PhysbreakError):
    """A file is not a readable physbreak HDF5 file (not HDF5 at all, or
    missing the ``physbreak_schema`` attribute or a required dataset).
    Re-run the simulation to a new output file."""


class OutputExistsError(PhysbreakError):
    """The output file already exists and would be overwritten.  Pass
    ``--resume`` to continue it, or choose another ``--out``."""


class ResumeError(PhysbreakError):
    """A run cannot be resumed: the file holds a different configuration, or
    was not written by ``simulate``.  Resume with the same config file, or
    start a new output file."""
