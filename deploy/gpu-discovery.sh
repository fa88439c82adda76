#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript, and the worker's
# spark.worker.resource.gpu.discoveryScript on standalone): prints the NVIDIA GPUs this process may
# use as Spark's resource JSON, e.g. {"name": "gpu", "addresses": ["0", "1"]}. Honours
# CUDA_VISIBLE_DEVICES when it lists indices. Copy it to the same path on every GPU node.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "gpu-discovery.sh: nvidia-smi not found; is the NVIDIA driver installed on this node?" >&2
  exit 1
fi
if [[ -n "${CUDA_VISIBLE_DEVICES:-}" && "$CUDA_VISIBLE_DEVICES" =~ ^[0-9,]+$ ]]; then
  indices="$CUDA_VISIBLE_DEVICES"
else
  indices="$(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' ' | paste -sd, -)"
fi
echo "{\"name\": \"gpu\", \"addresses\": [$(echo "$indices" | sed 's/[0-9][0-9]*/"&"/g; s/,/, /g')]}"
