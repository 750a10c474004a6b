"""HDF5 storage: the versioned run schema, a streaming writer and readers."""

from physbreak.io.hdf5 import SCHEMA_VERSION, RunWriter, SystemData, open_file, read_run

__all__ = ["SCHEMA_VERSION", "RunWriter", "SystemData", "open_file", "read_run"]
