"""The Triton kernels of :mod:`physbreak.mc.triton_ising` (imported on first use:
Triton reads ``TRITON_INTERPRET`` when it is imported)."""

import triton
import triton.language as tl


@triton.jit
def update(s_ptr, beta_ptr, u, idx, colour, J, L0, L1, L2, half, total, D3: tl.constexpr):
    mask = idx < total
    chain = idx // half
    r = idx % half  # the site's rank among its chain's sites of this colour
    if D3:
        plane = L1 * L2
        i = r // (plane // 2)
        rest = r % (plane // 2)
        j = rest // (L2 // 2)
        k = 2 * (rest % (L2 // 2)) + (i + j + colour) % 2
        base = chain * (L0 * plane)
        site = base + i * plane + j * L2 + k
        nb = tl.load(s_ptr + base + ((i + 1) % L0) * plane + j * L2 + k, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + ((i + L0 - 1) % L0) * plane + j * L2 + k, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * plane + ((j + 1) % L1) * L2 + k, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * plane + ((j + L1 - 1) % L1) * L2 + k, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * plane + j * L2 + (k + 1) % L2, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * plane + j * L2 + (k + L2 - 1) % L2, mask=mask, other=0).to(tl.int32)
    else:
        i = r // (L1 // 2)
        j = 2 * (r % (L1 // 2)) + (i + colour) % 2
        base = chain * (L0 * L1)
        site = base + i * L1 + j
        nb = tl.load(s_ptr + base + ((i + 1) % L0) * L1 + j, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + ((i + L0 - 1) % L0) * L1 + j, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * L1 + (j + 1) % L1, mask=mask, other=0).to(tl.int32)
        nb += tl.load(s_ptr + base + i * L1 + (j + L1 - 1) % L1, mask=mask, other=0).to(tl.int32)
    s = tl.load(s_ptr + site, mask=mask, other=1).to(tl.int32)
    beta = tl.load(beta_ptr + chain, mask=mask, other=0.0)
    flip = u < tl.exp(-2.0 * J * beta * (s * nb).to(tl.float32))
    tl.store(s_ptr + site, (-s).to(tl.int8), mask=mask & flip)

@triton.jit
def colour_update(s_ptr, beta_ptr, seed, colour, J, L0, L1, L2, half, total,
                  D3: tl.constexpr, BLOCK: tl.constexpr):
    # each lane updates four sites, BLOCK apart, with the four uniforms of one Philox call
    lane = tl.program_id(0) * (4 * BLOCK) + tl.arange(0, BLOCK)
    u0, u1, u2, u3 = tl.rand4x(seed, lane)
    update(s_ptr, beta_ptr, u0, lane, colour, J, L0, L1, L2, half, total, D3)
    update(s_ptr, beta_ptr, u1, lane + BLOCK, colour, J, L0, L1, L2, half, total, D3)
    update(s_ptr, beta_ptr, u2, lane + 2 * BLOCK, colour, J, L0, L1, L2, half, total, D3)
    update(s_ptr, beta_ptr, u3, lane + 3 * BLOCK, colour, J, L0, L1, L2, half, total, D3)
