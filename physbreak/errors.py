"""Every error physbreak raises on bad input.

Each class says when it is raised and how to fix the cause.  All derive from
:class:`PhysbreakError`; the CLI prints such an error as one line on stderr and
exits with code 2.
"""


class PhysbreakError(Exception):
    """Base class of all physbreak input errors."""


class InvalidValue(PhysbreakError, ValueError):
    """A library argument has a value outside what is allowed.  The message
    names the argument, the value given and what is allowed; the config layer
    reports it as a :class:`ConfigError` under the TOML field it came from."""

    def __init__(self, field: str, value, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {value!r} is not allowed: {allowed}")


class ConfigError(InvalidValue):
    """A configuration field (or command-line option) is missing, has the wrong
    type or a value outside the allowed set.  The message names the field
    (``section.key``), the value given and what is allowed; fix that field in
    the TOML file.  Raised by the config layer and the workflows only."""


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


class OutputBusyError(PhysbreakError):
    """Another running process is writing this output (it holds the claim
    ``<output>.lock``).  Wait for it to finish, or choose another output."""


class ResourceError(PhysbreakError):
    """A run would need more memory than this machine has.  The message gives
    the estimate and the machine's memory; use fewer or smaller systems."""


class ResumeError(PhysbreakError):
    """A run cannot be resumed: the file holds a different configuration, or
    was not written by ``simulate``.  Resume with the same config file, or
    start a new output file."""


class CheckpointError(PhysbreakError, ValueError):
    """A checkpoint cannot be used: not a file, not a physbreak checkpoint,
    truncated, of a newer version, or carrying pickled objects other than
    tensors (refused unread: nothing in it runs).  Pass a ``.pt`` file written
    by ``physbreak train`` or ``Predictor.save``."""


class DeviceError(PhysbreakError, ValueError):
    """A torch device name that torch does not know, or a CUDA device on a
    machine without one.  Use ``cpu``, ``cuda`` or ``cuda:N``."""


class DataError(PhysbreakError, ValueError):
    """A user data file (structures, couplings) cannot be read or does not
    describe a valid problem: unreadable by ase, inconsistent atom counts or
    species, a bond to a site that does not exist.  The message names the file
    and the field; fix the file."""


class SymmetryError(PhysbreakError, ValueError):
    """A symmetry request that the input does not allow: a target group that is
    not a subgroup of the input's, a symmetry-breaking set asked of an input
    with no symmetry to break.  The message names both groups."""
