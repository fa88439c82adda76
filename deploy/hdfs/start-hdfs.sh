#!/usr/bin/env bash
# deploy/hdfs/start-hdfs.sh [STATE_DIR]
# Starts a real HDFS on this machine from the Maven jars (Hadoop's MiniDFSCluster, at the Hadoop
# version Spark brings): one NameNode and one DataNode in one JVM, every address on 127.0.0.1,
# data under STATE_DIR/data (kept across restarts). Waits until it accepts a write, then prints
# its URI (hdfs://127.0.0.1:PORT) as the last line of standard output. Stop it with
# deploy/hdfs/stop-hdfs.sh STATE_DIR.
#
# Environment: HDFS_PORT (NameNode RPC port; default 0 = a free one), HDFS_HEAP (default 768m).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$(mkdir -p "${1:-$ROOT/deploy/hdfs/work}" && cd "${1:-$ROOT/deploy/hdfs/work}" && pwd)"
PORT="${HDFS_PORT:-0}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if [[ -f "$STATE/hdfs.pid" ]] && kill -0 "$(cat "$STATE/hdfs.pid")" 2>/dev/null; then
  echo "start-hdfs: $STATE already has a running HDFS (pid $(cat "$STATE/hdfs.pid")); stop it with deploy/hdfs/stop-hdfs.sh $STATE" >&2
  exit 2
fi
rm -f "$STATE/hdfs.pid" "$STATE/uri" "$STATE/uri.tmp"

if [[ ! -s "$STATE/classpath.txt" ]]; then
  echo "start-hdfs: resolving the HDFS jars (mvn dependency:build-classpath) ..." >&2
  (cd "$ROOT" && mvn -q -B -f deploy/hdfs/pom.xml dependency:build-classpath -Dmdep.outputFile="$STATE/classpath.txt") >&2
fi

nohup "$JAVA" -Xmx"${HDFS_HEAP:-768m}" -Djava.net.preferIPv4Stack=true -cp "$(cat "$STATE/classpath.txt")" \
  "$ROOT/deploy/hdfs/LoopbackHdfs.java" "$STATE" "$PORT" > "$STATE/hdfs.log" 2>&1 < /dev/null &
echo $! > "$STATE/hdfs.pid"

# The launcher writes the URI once HDFS has accepted a write (compiling it and formatting take a while).
hdfs_uri() { [[ -s "$STATE/uri" ]] && cat "$STATE/uri"; }
source "$ROOT/deploy/loopback-service.sh"
await_service start-hdfs HDFS "$STATE/hdfs.pid" "$STATE/hdfs.log" 120 "$ROOT/deploy/hdfs/stop-hdfs.sh" "$STATE" hdfs_uri
