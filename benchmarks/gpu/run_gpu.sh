#!/usr/bin/env bash
# One prepared GPU run, from the repository root: device facts, the FLOP ceilings, then the
# benchmark. Everything lands in $OUT (or the current folder). Extra arguments go to the
# benchmark (e.g. --variants diffusers,engine,engine+compile --budget-s 500).
set -euo pipefail
out="${OUT:-.}"
python="${PYTHON:-.venv/bin/python}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
"$python" -c "import torch; assert torch.cuda.is_available(), 'this torch has no CUDA'; \
print('torch', torch.__version__, 'cuda', torch.version.cuda)" | tee -a "$out/gpu.txt"
export HF_HUB_OFFLINE=1
"$python" -m benchmarks.gpu.bench_gpu --flops --output "$out/gpu-flops.md"
# The benchmark skips rows past --budget-s; timeout is the backstop for a hung call.
timeout 570 "$python" -m benchmarks.gpu.bench_gpu --budget-s 450 --output "$out/gpu-bench.md" "$@"
