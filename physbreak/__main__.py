"""``python -m physbreak``: the command line (what ``torchrun -m physbreak`` runs in every process)."""

from physbreak.cli import entry

entry()
