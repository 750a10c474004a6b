"""e3nn's channel-wise ("uvu") tensor product computed by NVIDIA's cuequivariance.

The edge tensor product of each e3nn gated convolution (``o3.TensorProduct``
with ``uvu`` instructions and per-edge weights) dominates a structure
network's cost on a GPU; :class:`CueTensorProduct` computes exactly the same
function with ``cuequivariance_torch.ChannelWiseTensorProduct`` (its CUDA
kernels where ``cuequivariance-ops-torch`` is installed, its pure-torch
fallback elsewhere).  Same inputs, same weights, same output layout:

* each e3nn instruction ``(i, j) -> k`` is matched with the cuequivariance
  path of the same input segments and output irrep, and its weights are moved
  to that path's weight segment (the two libraries normalise paths alike:
  ``tests/test_structure_net.py`` compares the outputs);
* the output segments are put back in e3nn's (sorted) order.

The e3nn module's own parameters and buffers stay in place under their names
and cuequivariance's constant tables are not part of the state, so a
checkpoint loads under either backend.  ``pip install cuequivariance-torch``.
"""

from __future__ import annotations

import importlib.util
import itertools
import math

import torch

BACKENDS = ("e3nn", "cuequivariance")


def available() -> bool:
    """Whether ``cuequivariance_torch`` is installed."""
    return importlib.util.find_spec("cuequivariance_torch") is not None


def _channelwise(tp, dtype):
    import cuequivariance as cue
    import cuequivariance_torch as cuet

    filt = cue.Irreps("O3", str(tp.irreps_out.simplify()))
    return cuet.ChannelWiseTensorProduct(cue.Irreps("O3", str(tp.irreps_in1)), cue.Irreps("O3", str(tp.irreps_in2)),
                                         filt, layout=cue.mul_ir, shared_weights=False, internal_weights=False,
                                         dtype=dtype, math_dtype=dtype)


class CueTensorProduct(torch.nn.Module):
    """Drop-in for an e3nn ``o3.TensorProduct`` ``tp`` with ``uvu`` instructions
    and external per-sample weights: ``forward(x1 (E, dim in1), x2 (E, dim in2),
    weight (E, tp.weight_numel)) -> (E, dim out)`` in e3nn's layout."""

    def __init__(self, tp):
        import cuequivariance as cue

        super().__init__()
        if any(ins.connection_mode != "uvu" for ins in tp.instructions) or tp.shared_weights:
            raise ValueError("CueTensorProduct takes e3nn 'uvu' tensor products with per-sample weights")
        if any(mul != 1 for mul, _ in tp.irreps_in2):
            raise ValueError(f"CueTensorProduct: the second input {tp.irreps_in2} needs multiplicity 1")
        # the e3nn module's state under its own names (checkpoints load under either backend)
        self._parameters.update(tp._parameters)
        self._buffers.update(tp._buffers)
        self._modules.update(tp._modules)
        self.irreps_in1, self.irreps_in2, self.irreps_out = tp.irreps_in1, tp.irreps_in2, tp.irreps_out
        dtype = torch.get_default_dtype()
        self.__dict__["_cue"] = _channelwise(tp, dtype)  # constant tables, kept out of the state dict

        poly = cue.descriptors.channelwise_tensor_product(
            cue.Irreps("O3", str(tp.irreps_in1)), cue.Irreps("O3", str(tp.irreps_in2)),
            cue.Irreps("O3", str(tp.irreps_out.simplify())))
        (_, stp), = poly.polynomial.operations
        out_irreps = [str(ir) for _, ir in poly.operands[-1].irreps]
        paths = {(p.indices[1], p.indices[2], out_irreps[p.indices[3]]): (p.indices[0], p.indices[3])
                 for p in stp.paths}
        cue_out = list(itertools.accumulate((mul * ir.dim for mul, ir in poly.operands[-1].irreps), initial=0))
        cue_w = list(itertools.accumulate((math.prod(seg) for seg in stp.operands[0].segments), initial=0))
        e3nn_out = list(itertools.accumulate((mul * ir.dim for mul, ir in tp.irreps_out), initial=0))
        w_index = torch.zeros(self._cue.weight_numel, dtype=torch.long)
        out_index = torch.zeros(tp.irreps_out.dim, dtype=torch.long)
        offset = 0
        for ins in tp.instructions:
            key = (ins.i_in1, ins.i_in2, str(tp.irreps_out[ins.i_out].ir))
            if key not in paths:
                raise ValueError(f"CueTensorProduct: no cuequivariance path for e3nn instruction {key}")
            w_seg, o_seg = paths.pop(key)
            n = ins.path_shape[0] * (ins.path_shape[1] if len(ins.path_shape) > 1 else 1)
            w_index[cue_w[w_seg]:cue_w[w_seg] + n] = torch.arange(offset, offset + n)
            lo, size = e3nn_out[ins.i_out], tp.irreps_out[ins.i_out].dim
            out_index[lo:lo + size] = torch.arange(cue_out[o_seg], cue_out[o_seg] + size)
            offset += n
        self.register_buffer("w_index", w_index, persistent=False)
        self.register_buffer("out_index", out_index, persistent=False)

    def _apply(self, fn, *args, **kwargs):
        self._cue._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    def forward(self, x1, x2, weight):
        out = self._cue(x1, x2, weight[:, self.w_index])
        return out[:, self.out_index]

