#!/usr/bin/env bash
# deploy/standalone/stop-cluster.sh: stops the cluster that start-cluster.sh started (CLUSTER_DIR, default
# deploy/standalone/work): its workers, their executors and its master, by the PIDs it recorded.
# A PID that now belongs to another program is left alone.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${CLUSTER_DIR:-$ROOT/deploy/standalone/work}"

descendants() { # $1 = PID; prints its descendants, children first
  local child
  for child in $(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p {print $1}'); do
    echo "$child"
    descendants "$child"
  done
}

ours() { # $1 = PID: still the Spark daemon we started?
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q "org.apache.spark.deploy"
}

stop() { # $1 = PID file
  local pid victims
  pid="$(cat "$1")"
  if ours "$pid"; then
    victims="$pid $(descendants "$pid")" # executors are the workers' children
    kill $victims 2>/dev/null
    for _ in $(seq 100); do
      kill -0 $victims 2>/dev/null || break
      sleep 0.1
    done
    kill -9 $victims 2>/dev/null
    echo "stop-cluster: stopped $(basename "$1" .pid) (pid $pid)"
  fi
  rm -f "$1"
}

shopt -s nullglob
for file in "$DIR"/pids/worker-*.pid; do stop "$file"; done
for file in "$DIR"/pids/master.pid; do stop "$file"; done
exit 0
