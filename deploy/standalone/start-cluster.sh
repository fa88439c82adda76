#!/usr/bin/env bash
# deploy/standalone/start-cluster.sh [WORKERS] [CORES_PER_WORKER] [MEMORY_PER_WORKER]
# Starts a Spark standalone cluster on this machine from the Maven jars alone (no Spark distribution):
# a master and WORKERS workers (default 2 x 1 core x 2g), everything bound to 127.0.0.1. Prints the
# master URL and the SPARK_HOME to submit with; stop it with deploy/standalone/stop-cluster.sh.
#
# Environment: CLUSTER_DIR (default deploy/standalone/work: SPARK_HOME, logs, PIDs, worker dirs),
# MASTER_PORT (7077), MASTER_WEBUI_PORT (8080). Workers' ports are chosen free by Spark.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORKERS="${1:-2}"
CORES="${2:-1}"
MEMORY="${3:-2g}"
DIR="${CLUSTER_DIR:-$ROOT/deploy/standalone/work}"
MASTER_PORT="${MASTER_PORT:-7077}"
MASTER_WEBUI_PORT="${MASTER_WEBUI_PORT:-8080}"
LAUNCHER="$ROOT/jobs/target/launcher"

if [[ ! -f "$LAUNCHER/spark-classpath.txt" || ! -f "$LAUNCHER/jvm-flags.txt" ]]; then
  echo "start-cluster: building the application first (mvn package) ..." >&2
  (cd "$ROOT" && mvn -q -B -DskipTests package) >&2
fi
if ls "$DIR"/pids/*.pid >/dev/null 2>&1; then
  echo "start-cluster: $DIR already has a cluster's PID files; run deploy/standalone/stop-cluster.sh first" >&2
  exit 2
fi

# SPARK_HOME/jars: exactly what a Spark distribution provides (Spark and the libraries it ships),
# not the application: executors get that from the submitted application jar.
export SPARK_HOME="$DIR/spark-home"
rm -rf "$SPARK_HOME" && mkdir -p "$SPARK_HOME/jars" "$SPARK_HOME/conf" "$DIR/logs" "$DIR/pids"
for jar in $(tr ':' ' ' < "$LAUNCHER/spark-classpath.txt"); do
  ln -s "$jar" "$SPARK_HOME/jars/$(basename "$jar")"
done
cp "$ROOT/deploy/standalone/log4j2.properties" "$SPARK_HOME/conf/"
export SPARK_SCALA_VERSION=2.13
export SPARK_LOCAL_IP=127.0.0.1
read -r -a FLAGS < "$LAUNCHER/jvm-flags.txt"

daemon() { # $1 = name, rest = main class and arguments; records the PID before anything can fail
  local name="$1"
  shift
  nohup "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx512m "${FLAGS[@]}" -cp "$SPARK_HOME/conf/:$SPARK_HOME/jars/*" "$@" \
    > "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/pids/$name.pid"
}

await() { # $1 = log, $2 = pattern, $3 = count; waits up to 60 s
  for _ in $(seq 600); do
    [[ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ]] && return 0
    sleep 0.1
  done
  echo "start-cluster: timed out waiting for '$2' in $1:" >&2
  tail -n 20 "$1" >&2
  "$ROOT/deploy/standalone/stop-cluster.sh" >&2 || true
  exit 1
}

MASTER_URL="spark://127.0.0.1:$MASTER_PORT"
daemon master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$MASTER_PORT" --webui-port "$MASTER_WEBUI_PORT"
await "$DIR/logs/master.log" "I have been elected leader" 1
for ((i = 1; i <= WORKERS; i++)); do
  mkdir -p "$DIR/worker-$i"
  daemon "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --port 0 --webui-port 0 \
    --cores "$CORES" --memory "$MEMORY" --work-dir "$DIR/worker-$i" "$MASTER_URL"
done
await "$DIR/logs/master.log" "Registering worker" "$WORKERS"

echo "$MASTER_URL" > "$DIR/master-url"
echo "start-cluster: master $MASTER_URL (web UI http://127.0.0.1:$MASTER_WEBUI_PORT), $WORKERS workers x $CORES core(s) x $MEMORY"
echo "  submit with: SPARK_HOME=$SPARK_HOME SPARK_MASTER=$MASTER_URL SPARK_PROPERTIES_FILE=conf/spark/standalone.conf deploy/spark-submit.sh COMMAND ..."
echo "  stop with:   ${CLUSTER_DIR:+CLUSTER_DIR=$DIR }deploy/standalone/stop-cluster.sh"
