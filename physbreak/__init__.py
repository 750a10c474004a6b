"""physbreak: simulate symmetric physical systems, learn their symmetry-broken
ground states, and analyse phase transitions."""

__version__ = "0.1.0"
