#!/usr/bin/env bash
# Installs the PyTorch references of `bin/sparse-transfer bench` (train_step_ratio_vs_pytorch,
# input_ratio_vs_torchvision): Debian's python3-torch for the system python3 (/usr/bin/python3),
# and python3-torchvision for bench/input_pipeline.py and bench/step_memory.py. Needs root (or sudo).
set -euo pipefail
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
  echo "python3-torch is installed: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends python3-torch python3-torchvision
/usr/bin/python3 -c 'import torch; print("installed python3-torch", torch.__version__)'
