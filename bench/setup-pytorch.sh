#!/usr/bin/env bash
# Installs the Python references of the tests and of `bin/sparse-transfer bench` (never a run-time
# dependency): Debian's python3-torch for the system python3 (/usr/bin/python3), python3-torchvision
# (checkpoint import and export, bench/input_pipeline.py, bench/step_memory.py) and python3-sklearn
# (the linear probe's reference fit). Needs root (or sudo).
set -euo pipefail
if /usr/bin/python3 -c 'import torch, torchvision, sklearn' 2>/dev/null; then
  echo "python3-torch is installed: $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends python3-torch python3-torchvision python3-sklearn
/usr/bin/python3 -c 'import torch; print("installed python3-torch", torch.__version__)'
