#!/usr/bin/env bash
# deploy/s3/stop-s3.sh [STATE_DIR]
# Stops the server that deploy/s3/start-s3.sh started in STATE_DIR, by the PID it recorded
# (SIGTERM, then SIGKILL after 10 s). Its objects stay in STATE_DIR/data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${1:-$ROOT/deploy/s3/work}"
PID_FILE="$STATE/s3.pid"
if [[ ! -f "$PID_FILE" ]]; then
  echo "stop-s3: no $PID_FILE; nothing to stop" >&2
  exit 0
fi
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"
  for _ in $(seq 100); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "stop-s3: pid $PID did not stop within 10 s; killing it" >&2
    kill -9 "$PID" 2>/dev/null || true
  fi
fi
rm -f "$PID_FILE"
echo "stop-s3: stopped pid $PID" >&2
