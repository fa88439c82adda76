#!/usr/bin/env bash
# Fan-out benchmark: the transfer stage of conf/tiny.yaml on a Spark local-cluster (a real master,
# workers and separate executor JVMs, all on 127.0.0.1) with 1 and with 2 single-core executors,
# measured side by side in one run; prints one name=value line per figure. `bin/sparse-transfer
# bench --only fanout` runs it and writes bench/results/fanout.md.
#   bench/fanout.sh [REPEATS]     (default 1 round; each round measures 1, 2, then the pair)
#   FANOUT_CONFIG: the experiment (default conf/tiny.yaml); BENCH_WORK: scratch warehouse.
# Target: efficiency = t1 / (2 * t2) >= 0.8.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPEATS="${1:-1}"
WORK="${BENCH_WORK:-$ROOT/bench/work}"
CONFIG="${FANOUT_CONFIG:-$ROOT/conf/tiny.yaml}"
LAUNCHER="$ROOT/jobs/target/launcher"
CLI="$ROOT/bin/sparse-transfer"

# Upstream and pruning once, in local mode; only the transfer stage is measured.
for stage in ingest upstream prune; do
  "$CLI" "$stage" --config "$CONFIG" --out "$WORK" --master 'local[2]' > "$WORK.$stage.log" 2>&1 \
    || { echo "fanout: $stage failed, see $WORK.$stage.log" >&2; exit 1; }
done

# Executor JVMs are started by the workers from SPARK_HOME/jars: the application's runtime classpath.
SPARK_HOME_DIR="$WORK/spark-home"
rm -rf "$SPARK_HOME_DIR" && mkdir -p "$SPARK_HOME_DIR/jars"
for jar in $(ls "$ROOT"/jobs/target/sparse-transfer-jobs-*.jar) $(tr ':' ' ' < "$LAUNCHER/classpath.txt") $(tr ':' ' ' < "$LAUNCHER/spark-classpath.txt"); do
  ln -sf "$jar" "$SPARK_HOME_DIR/jars/$(basename "$jar")"
done
EXECUTOR_FLAGS="$(cat "$LAUNCHER/jvm-flags.txt") -Dai.djl.pytorch.num_threads=1 -Dai.djl.offline=true"

transfer() { # $1 = executors, $2 = warehouse, $3 = log; runs the transfer stage from an empty results table
  rm -rf "$2/transfer_results"
  SPARK_HOME="$SPARK_HOME_DIR" SPARK_SCALA_VERSION=2.13 SPARSE_TRANSFER_THREADS=1 "$CLI" transfer --config "$CONFIG" \
    --out "$2" --master "local-cluster[$1,1,2048]" --conf "spark.executor.extraJavaOptions=$EXECUTOR_FLAGS" \
    > "$3" 2>&1 || { echo "fanout: transfer on $1 executor(s) failed, see $3" >&2; exit 1; }
}
seconds() { grep -Eo '[0-9]+ runs finished in [0-9.]+ s' "$1" | tail -n 1 | awk '{print $5}'; }

measure() { # $1 = executors; prints the transfer stage's wall seconds
  transfer "$1" "$WORK" "$WORK.transfer-$1.log"
  seconds "$WORK.transfer-$1.log"
}

# The machine's own ceiling: two independent 1-executor runs at once (two warehouses). With
# perfectly parallel cores each would take t1; efficiency t1 / t_pair is what 2 cores allow.
measure_pair() {
  rm -rf "$WORK-twin" && cp -r "$WORK" "$WORK-twin"
  transfer 1 "$WORK" "$WORK.pair-a.log" &
  local a=$!
  transfer 1 "$WORK-twin" "$WORK.pair-b.log" &
  wait "$a" && wait $!
  awk -v a="$(seconds "$WORK.pair-a.log")" -v b="$(seconds "$WORK.pair-b.log")" 'BEGIN {print (a > b ? a : b)}'
}

declare -a T1 T2 TP
for ((i = 0; i < REPEATS; i++)); do
  T1+=("$(measure 1)")
  T2+=("$(measure 2)")
  TP+=("$(measure_pair)")
done
RUNS="$(grep -Eo '[0-9]+ runs finished' "$WORK.transfer-2.log" | awk '{print $1}')"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
t1="$(median "${T1[@]}")"
t2="$(median "${T2[@]}")"
tp="$(median "${TP[@]}")"
efficiency="$(awk -v a="$t1" -v b="$t2" 'BEGIN {printf "%.3f", a / (2 * b)}')"
ceiling="$(awk -v a="$t1" -v b="$tp" 'BEGIN {printf "%.3f", a / b}')"

echo "fanout_runs=$RUNS"
echo "fanout_t1_s=$t1"
echo "fanout_t2_s=$t2"
echo "fanout_pair_s=$tp"
echo "fanout_t1_each=${T1[*]}"
echo "fanout_t2_each=${T2[*]}"
echo "fanout_pair_each=${TP[*]}"
echo "fanout_efficiency=$efficiency"
echo "fanout_machine_ceiling=$ceiling"
