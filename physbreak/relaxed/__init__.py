"""Relaxed equivariance: representations, canonicalization, symmetry breakers,
orbit-aware losses and test helpers.  See ``docs/relaxed-equivariance.md``."""

from physbreak.relaxed.breakers import (GraphCanonicalization, NoBreaker, NoiseInjection,
                                        RelaxedCanonicalization,
                                        SymmetryBreakingSet, SymPE, generic_vector)
from physbreak.relaxed.losses import nearest_target_loss, orbit_loss, orbit_targets
from physbreak.relaxed.reps import (Canonicalizer, DenseRep, Rep, SignedPermRep, atom_scalar_rep,
                                    atom_vector_rep, bond_rep, direct_sum, site_rep, vector_rep)
from physbreak.relaxed.testing import (assert_equivariant, assert_relaxed_equivariant,
                                       equivariance_error, joint_equivariance_error,
                                       output_stabilizer, relaxed_equivariance_error)

__all__ = ["Canonicalizer", "DenseRep", "GraphCanonicalization", "NoBreaker", "NoiseInjection", "RelaxedCanonicalization",
           "Rep", "SignedPermRep", "SymPE", "SymmetryBreakingSet", "assert_equivariant",
           "assert_relaxed_equivariant", "atom_scalar_rep", "atom_vector_rep", "bond_rep",
           "direct_sum", "equivariance_error", "generic_vector", "joint_equivariance_error", "nearest_target_loss",
           "orbit_loss", "orbit_targets", "output_stabilizer", "relaxed_equivariance_error",
           "site_rep", "vector_rep"]
