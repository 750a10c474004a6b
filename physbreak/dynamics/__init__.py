"""Molecular dynamics of lattice models: Langevin dynamics of local modes and
homogeneous strain (:mod:`.langevin`), and temperature-schedule runs streamed
to HDF5 (:mod:`.perovskite_run`)."""
