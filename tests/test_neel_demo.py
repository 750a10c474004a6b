"""Check 5 of the symmetry-core issue: with the orbit-aware loss a relaxed
E-MLP learns the Neel states of bipartite antiferromagnets (cycles C4..C12,
L x L tori, L = 4..8) to 100% exact, while a plain E-MLP stays at m = 0."""

import pytest

from physbreak.learn.neel_demo import evaluate, neel_task, run


def test_relaxed_emlp_learns_neel_states_plain_emlp_cannot():
    rows = run(strategies=("none", "relaxed_emlp"), steps=150)
    assert len(rows) == 16
    for r in rows:
        if r["strategy"] == "none":
            assert r["exact_test"] == 0.0 and r["symmetric_input_output_norm"] == 0.0, r
        else:
            assert r["exact_test"] == 1.0, r


@pytest.mark.parametrize("strategy", ["noise", "sympe", "relaxed_canonicalization"])
def test_other_breakers_also_reach_a_ground_state(strategy):
    r = evaluate(strategy, neel_task("square", 4), steps=150)
    assert r["exact_test"] == 1.0, r
