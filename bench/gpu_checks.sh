#!/usr/bin/env bash
# Every GPU check in one run (about 7 minutes on an H200), on a machine with a
# CUDA device and physbreak installed (pip install -e ".[test]", with Triton):
#   1. tests: tests/test_cuda.py (every device code path against the CPU; the
#      Ising runs go through the fused Triton kernel there) and the CUDA Onsager test;
#   2. bench/mc_gpu.py: 2D Ising flips/ns at L = 4096 and 16384 of the fused
#      Triton kernel (goal: 900 flips/ns at L = 16384), the multi-spin-coded and
#      the torch kernels, and the energy at T = 2.0 against the exact torus value;
#   3. bench/structure_throughput.py: e3nn predictor training/inference, GPU vs CPU,
#      and e3nn vs cuequivariance tensor products in the same run (where
#      cuequivariance-torch is installed; with cuequivariance-ops-torch-cu12 for its kernels);
#   4. bench/train_throughput.py: spin predictors' training, GPU vs CPU;
#   5. tests/test_distributed.py: data-parallel training (gloo; NCCL needs 2 GPUs);
#   6. bench/perovskite_md.py: Langevin MD steps/s, GPU vs CPU.
# Each step has its own time limit and log in OUTDIR (default gpu_checks/); every
# figure ends up in OUTDIR/gpu_checks.json.
#
#   bash bench/gpu_checks.sh [OUTDIR]
set -uo pipefail
out=${1:-gpu_checks}
mkdir -p "$out"
python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device: nothing to check')" \
    || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
failed=()
step() {  # step NAME SECONDS COMMAND...: run with a time limit, log to OUTDIR/NAME.txt
    local name=$1 limit=$2
    shift 2
    echo "== $name"
    local start=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - start)) s"
    [ "$rc" -eq 0 ] || failed+=("$name")
}
step tests 150 python -m pytest -q tests/test_cuda.py tests/test_physics.py::test_metropolis_on_cuda_matches_onsager
step mc_gpu 120 python bench/mc_gpu.py --json "$out/mc_gpu.json"
step structure_throughput 120 python bench/structure_throughput.py --repeats 2 --json "$out/structure_throughput.json"
step train_throughput 60 python bench/train_throughput.py --problems 32 --epochs 1 --devices cpu cuda \
    --json "$out/train_throughput.json"
step distributed 60 python -m pytest -q tests/test_distributed.py
step perovskite_md 60 python bench/perovskite_md.py --json "$out/perovskite_md.json"
python - "$out" "${failed[*]:-}" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
figures = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.stem != "gpu_checks"}
figures["gpu"] = (out / "gpu.txt").read_text().strip()
figures["failed"] = sys.argv[2].split()
(out / "gpu_checks.json").write_text(json.dumps(figures, indent=1))
print(f"figures: {out / 'gpu_checks.json'}")
PY
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all GPU checks ran"
