#!/usr/bin/env bash
# deploy/spark-submit.sh COMMAND [COMMAND OPTIONS]: submits a sparse-transfer command (ingest, upstream,
# prune, transfer, report, pipeline, lineage) with spark-submit, in client mode, with the right main
# class, JVM flags and Spark properties. Example:
#
#   SPARK_PROPERTIES_FILE=conf/spark/standalone.conf deploy/spark-submit.sh pipeline --config conf/tiny.yaml --out /shared/wh
#
# Environment:
#   SPARK_HOME              a Spark 4.0 (Scala 2.13) installation: its bin/spark-submit is used; a SPARK_HOME
#                           with only jars/ (as deploy/standalone builds) is run as `java ... SparkSubmit`
#   SPARK_PROPERTIES_FILE   Spark properties (default conf/spark/local.conf; see conf/spark/)
#   SPARK_MASTER            overrides the properties file's spark.master
#   SPARK_SUBMIT_ARGS       more spark-submit options, e.g. "--conf spark.cores.max=1 --name nightly"
#   SPARSE_TRANSFER_JAR     the application jar (default jobs/target/sparse-transfer-app.jar)
#   SPARSE_TRANSFER_EXECUTOR_THREADS  libtorch threads per executor (default: spark.executor.cores, else 1)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 && "$1" != -* ]] || usage

JAR="${SPARSE_TRANSFER_JAR:-$ROOT/jobs/target/sparse-transfer-app.jar}"
FLAGS_FILE="$ROOT/jobs/target/launcher/jvm-flags.txt"
PROPERTIES="${SPARK_PROPERTIES_FILE:-$ROOT/conf/spark/local.conf}"
if [[ ! -f "$JAR" || ! -f "$FLAGS_FILE" ]]; then
  echo "spark-submit.sh: no application jar at $JAR; build it with: mvn -B -DskipTests package" >&2
  exit 2
fi
[[ -f "$PROPERTIES" ]] || { echo "spark-submit.sh: no properties file $PROPERTIES (SPARK_PROPERTIES_FILE)" >&2; exit 2; }
[[ -n "${SPARK_HOME:-}" ]] || { echo "spark-submit.sh: set SPARK_HOME to a Spark 4.0 (Scala 2.13) installation, or start deploy/standalone/start-cluster.sh and use the SPARK_HOME it prints" >&2; exit 2; }

# A property of the properties file, or $2.
property() { awk -v key="$1" '$1 == key { $1 = ""; sub(/^ +/, ""); value = $0 } END { print value }' "$PROPERTIES" | grep . || echo "$2"; }

JVM_FLAGS="$(cat "$FLAGS_FILE")"
THREADS="${SPARSE_TRANSFER_EXECUTOR_THREADS:-$(property spark.executor.cores 1)}"

# Spark's Java 17 module flags and DJL's offline mode on the driver and on every executor; the
# *.defaultJavaOptions leave spark.{driver,executor}.extraJavaOptions to the user.
ARGS=(
  --properties-file "$PROPERTIES"
  --class org.sparsetransfer.jobs.cli.SparseTransferCli
  --conf "spark.driver.defaultJavaOptions=$JVM_FLAGS"
  --conf "spark.executor.defaultJavaOptions=$JVM_FLAGS -Dai.djl.pytorch.num_threads=$THREADS"
  --conf "spark.executorEnv.DJL_OFFLINE=true"
)
[[ -n "${SPARK_MASTER:-}" ]] && ARGS+=(--master "$SPARK_MASTER")
read -r -a EXTRA <<< "${SPARK_SUBMIT_ARGS:-}"
ARGS+=("${EXTRA[@]}" "$JAR" "$@")

export DJL_OFFLINE=true
# The master this submission goes to: --master in SPARK_SUBMIT_ARGS, else SPARK_MASTER, else the properties file's.
MASTER="${SPARK_MASTER:-$(property spark.master 'local[*]')}"
for ((i = 0; i + 1 < ${#EXTRA[@]}; i++)); do
  if [[ "${EXTRA[i]}" == "--master" ]]; then MASTER="${EXTRA[i + 1]}"; fi
done
source "$ROOT/deploy/loopback-master.sh"
bind_loopback_if_local_master "$MASTER"
if [[ -x "$SPARK_HOME/bin/spark-submit" ]]; then
  exec "$SPARK_HOME/bin/spark-submit" "${ARGS[@]}"
fi
# A SPARK_HOME of jars only: start the client-mode driver JVM as bin/spark-submit would.
[[ -d "$SPARK_HOME/jars" ]] || { echo "spark-submit.sh: $SPARK_HOME has neither bin/spark-submit nor jars/" >&2; exit 2; }
export SPARK_SCALA_VERSION="${SPARK_SCALA_VERSION:-2.13}"
read -r -a DRIVER_FLAGS <<< "$JVM_FLAGS"
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx"$(property spark.driver.memory 3g)" "${DRIVER_FLAGS[@]}" \
  -Dai.djl.pytorch.num_threads="$(nproc)" -cp "$SPARK_HOME/conf/:$SPARK_HOME/jars/*" org.apache.spark.deploy.SparkSubmit "${ARGS[@]}"
