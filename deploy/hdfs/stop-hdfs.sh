#!/usr/bin/env bash
# deploy/hdfs/stop-hdfs.sh [STATE_DIR]
# Stops the HDFS that deploy/hdfs/start-hdfs.sh started in STATE_DIR, by the PID it recorded
# (SIGTERM, then SIGKILL after 30 s). Its data stays in STATE_DIR/data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${1:-$ROOT/deploy/hdfs/work}"
source "$ROOT/deploy/loopback-service.sh"
stop_service stop-hdfs "$STATE/hdfs.pid" 30
rm -f "$STATE/uri"
