"""Predicting symmetry-broken crystal structures: datasets of symmetric parents
and their ground states (:mod:`.batio3`), structure symmetry helpers
(:mod:`.symmetry`), and training/evaluation of the e3nn network with
symmetry breakers (:mod:`.train`)."""
