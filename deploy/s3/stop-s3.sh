#!/usr/bin/env bash
# deploy/s3/stop-s3.sh [STATE_DIR]
# Stops the server that deploy/s3/start-s3.sh started in STATE_DIR, by the PID it recorded
# (SIGTERM, then SIGKILL after 10 s). Its objects stay in STATE_DIR/data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${1:-$ROOT/deploy/s3/work}"
source "$ROOT/deploy/loopback-service.sh"
stop_service stop-s3 "$STATE/s3.pid" 10
