#!/usr/bin/env bash
# deploy/hdfs/stop-hdfs.sh [STATE_DIR]
# Stops the HDFS that deploy/hdfs/start-hdfs.sh started in STATE_DIR, by the PID it recorded
# (SIGTERM, then SIGKILL after 30 s). Its data stays in STATE_DIR/data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${1:-$ROOT/deploy/hdfs/work}"
PID_FILE="$STATE/hdfs.pid"
if [[ ! -f "$PID_FILE" ]]; then
  echo "stop-hdfs: no $PID_FILE; nothing to stop" >&2
  exit 0
fi
PID="$(cat "$PID_FILE")"
if kill -0 "$PID" 2>/dev/null; then
  kill "$PID"
  for _ in $(seq 300); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PID" 2>/dev/null; then
    echo "stop-hdfs: pid $PID did not stop within 30 s; killing it" >&2
    kill -9 "$PID" 2>/dev/null || true
  fi
fi
rm -f "$PID_FILE" "$STATE/uri"
echo "stop-hdfs: stopped pid $PID" >&2
