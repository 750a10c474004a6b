"""Relaxed canonicalization of structures by a frame built from the input.

:func:`canonical_frame` is a frame fixed by the input itself: the principal
axes of its shape (lattice metric, or the atoms' second moments), the
ambiguities settled by the input's own vectors.  Running a non-equivariant
network in this frame and rotating back is relaxed canonicalization (Kaba &
Ravanbakhsh): a symmetric input has several equally good frames, related by
its stabilizer, and taking any one of them is allowed.
"""

from __future__ import annotations

import numpy as np


def canonical_frame(atoms, tol: float = 1e-3) -> np.ndarray:
    """Rows ``(e1, e2, e3)``: an orthogonal matrix built from the input alone.

    The axes are the principal axes of the input's shape tensor (crystals:
    the metric ``A^T A`` of the lattice vectors; molecules: ``sum_i x_i x_i^T``
    about the centroid), by increasing eigenvalue, so that a strained cell's
    unique axis or a planar molecule's normal is always the same canonical
    axis.  Degenerate axes are filled by Gram-Schmidt from the input's own
    vectors (lattice vectors, or atom positions in index order), signs are
    chosen so that the first of those vectors with a component along the axis
    has a positive one; an axis no vector fixes is ``+-`` the cross product of
    the other two, with the input's handedness (the cell's, or the first
    non-planar triple of atoms'), so an improper rotation of the input gives
    the same canonical structure."""
    if any(atoms.pbc):
        A = np.asarray(atoms.cell)
        vecs, S = list(A), A.T @ A
    else:
        x = atoms.positions - atoms.positions.mean(0)
        vecs, S = [v for v in x if np.linalg.norm(v) > tol], x.T @ x
    triples = [np.linalg.det(np.array([a, b, c])) for a, b, c in zip(vecs, vecs[1:], vecs[2:])]
    triples += [np.linalg.det(np.array([vecs[0], vecs[1], v])) for v in vecs[2:]] if len(vecs) > 2 else []
    hand = next((np.sign(t) for t in triples if abs(t) > tol), 1.0)
    if np.linalg.matrix_rank(np.array(vecs), tol) < 2:  # linear: the rotation about the axis is a symmetry
        vecs = vecs + list(np.eye(3))
    w, v = np.linalg.eigh(S)
    scale = max(abs(w).max(), 1e-12)
    axes, fixed = [], []
    k = 0
    while k < 3:
        block = [j for j in range(k, 3) if abs(w[j] - w[k]) < 1e-6 * scale]
        span = v[:, block]
        for _ in block:  # Gram-Schmidt of the input's vectors inside the degenerate subspace
            for u in vecs:
                u = span @ (span.T @ u)
                for e in axes[k:]:
                    u = u - e * (e @ u)
                if np.linalg.norm(u) > tol:
                    axes.append(u / np.linalg.norm(u))
                    fixed.append(True)
                    break
            else:
                axes.append(None)
                fixed.append(False)
        k += len(block)
    for j, e in enumerate(axes):
        if e is not None:
            first = next((u @ e for u in vecs if abs(u @ e) > tol), 1.0)
            axes[j] = e * np.sign(first)
            fixed[j] = fixed[j] and any(abs(u @ e) > tol for u in vecs)
    free = [j for j in range(3) if not fixed[j]]
    for j in free[:1]:
        others = [axes[i] for i in range(3) if i != j]
        if any(o is None for o in others):
            raise ValueError("the input has fewer than two independent directions: no frame")
        axes[j] = hand * np.cross(others[0], others[1]) * (1 if j != 1 else -1)
    if len(free) > 1:
        raise ValueError("the input fixes only one axis: no frame")
    return np.array(axes)


def rotated(atoms, F: np.ndarray):
    """``atoms`` expressed in the frame ``F`` (rows are the new axes)."""
    out = atoms.copy()
    out.set_cell(np.asarray(atoms.cell) @ F.T, scale_atoms=False)
    out.positions = atoms.positions @ F.T
    return out
