#!/usr/bin/env bash
# Every GPU check in one run, on a machine with a CUDA device and physbreak
# installed (pip install -e ".[test]"):
#   1. tests/test_cuda.py and the CUDA Onsager test: every device code path
#      against the CPU;
#   2. bench/mc_gpu.py: 2D Ising flips/ns at L = 4096 and 16384, physics at T = 2.0;
#   3. bench/structure_throughput.py: e3nn predictor training/inference, GPU vs CPU;
#   4. bench/perovskite_md.py: Langevin MD steps/s, GPU vs CPU.
# Each step has its own time limit; the outputs go to OUTDIR (default gpu_checks/).
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
step tests 300 python -m pytest -q tests/test_cuda.py tests/test_physics.py::test_metropolis_on_cuda_matches_onsager
step mc_gpu 240 python bench/mc_gpu.py --json "$out/mc_gpu.json"
step structure_throughput 300 python bench/structure_throughput.py --repeats 2 --json "$out/structure_throughput.json"
step perovskite_md 180 python bench/perovskite_md.py --json "$out/perovskite_md.json"
if [ ${#failed[@]} -gt 0 ]; then
    echo "failed: ${failed[*]}"
    exit 1
fi
echo "all GPU checks ran"
