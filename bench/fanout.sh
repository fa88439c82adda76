#!/usr/bin/env bash
# Fan-out benchmark: the transfer stage of conf/tiny.yaml on a Spark local-cluster (a real master,
# workers and separate executor JVMs, all on 127.0.0.1) with 1 and with 2 single-core executors,
# measured side by side in one run; prints one name=value line per figure. `bin/sparse-transfer
# bench --only fanout` runs it and writes bench/results/fanout.md.
#   bench/fanout.sh [REPEATS]     (default 1 round; each round measures 1, 2, then the pair)
#   FANOUT_CONFIG: the experiment (default conf/tiny.yaml); BENCH_WORK: scratch warehouse.
# Each measurement is one Spark application that runs the stage twice, on two copies of the
# prepared warehouse (TransferRounds): the first ("cold") pays the JVMs' start and JIT
# compilation, the second runs on warm executors, the steady state of a long run.
# Target: efficiency = t1 / (2 * t2) >= 0.8, warm.
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
rm -rf "$WORK/transfer_results"

# Executor JVMs are started by the workers from SPARK_HOME/jars: the application's runtime classpath.
SPARK_HOME_DIR="$WORK.spark-home"
rm -rf "$SPARK_HOME_DIR" && mkdir -p "$SPARK_HOME_DIR/jars"
for jar in $(ls "$ROOT"/jobs/target/sparse-transfer-jobs-*.jar) $(tr ':' ' ' < "$LAUNCHER/classpath.txt") $(tr ':' ' ' < "$LAUNCHER/spark-classpath.txt"); do
  ln -sf "$jar" "$SPARK_HOME_DIR/jars/$(basename "$jar")"
done
EXECUTOR_FLAGS="$(cat "$LAUNCHER/jvm-flags.txt") -Dai.djl.pytorch.num_threads=1 -Dai.djl.offline=true"

transfer() { # $1 = executors, $2 = name, $3 = log: both rounds on fresh copies of the prepared warehouse
  rm -rf "$WORK.$2.cold" "$WORK.$2.warm"
  cp -r "$WORK" "$WORK.$2.cold" && cp -r "$WORK" "$WORK.$2.warm"
  SPARK_HOME="$SPARK_HOME_DIR" SPARK_SCALA_VERSION=2.13 SPARSE_TRANSFER_THREADS=1 \
    SPARSE_TRANSFER_MAIN=org.sparsetransfer.jobs.bench.TransferRounds "$CLI" --config "$CONFIG" \
    --master "local-cluster[$1,1,2048]" --conf "spark.executor.extraJavaOptions=$EXECUTOR_FLAGS" \
    "$WORK.$2.cold" "$WORK.$2.warm" > "$3" 2>&1 || { echo "fanout: transfer on $1 executor(s) failed, see $3" >&2; exit 1; }
}
# The stage's wall seconds in round $2 (1 = cold, 2 = warm) of log $1.
seconds() { grep -Eo '[0-9]+ runs finished in [0-9.]+ s' "$1" | sed -n "$2p" | awk '{print $5}'; }

measure() { # $1 = executors; prints the cold and the warm wall seconds
  transfer "$1" "e$1" "$WORK.transfer-$1.log"
  echo "$(seconds "$WORK.transfer-$1.log" 1) $(seconds "$WORK.transfer-$1.log" 2)"
}

# The machine's own ceiling: two independent 1-executor applications at once. With perfectly
# parallel cores each would take t1; efficiency t1 / t_pair is what 2 cores allow.
measure_pair() {
  transfer 1 pair-a "$WORK.pair-a.log" &
  local a=$!
  transfer 1 pair-b "$WORK.pair-b.log" &
  wait "$a" && wait $!
  local round
  for round in 1 2; do
    awk -v a="$(seconds "$WORK.pair-a.log" $round)" -v b="$(seconds "$WORK.pair-b.log" $round)" 'BEGIN {printf "%s ", (a > b ? a : b)}'
  done
  echo
}

declare -a T1 T2 TP T1C T2C TPC
for ((i = 0; i < REPEATS; i++)); do
  read -r cold warm < <(measure 1); T1C+=("$cold"); T1+=("$warm")
  read -r cold warm < <(measure 2); T2C+=("$cold"); T2+=("$warm")
  read -r cold warm < <(measure_pair); TPC+=("$cold"); TP+=("$warm")
done
RUNS="$(grep -Eo '[0-9]+ runs finished' "$WORK.transfer-2.log" | head -n 1 | awk '{print $1}')"
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN {printf "%.3f", a / (k * b)}'; }
t1="$(median "${T1[@]}")"; t2="$(median "${T2[@]}")"; tp="$(median "${TP[@]}")"
t1c="$(median "${T1C[@]}")"; t2c="$(median "${T2C[@]}")"; tpc="$(median "${TPC[@]}")"

echo "fanout_runs=$RUNS"
echo "fanout_t1_s=$t1"
echo "fanout_t2_s=$t2"
echo "fanout_pair_s=$tp"
echo "fanout_t1_each=${T1[*]}"
echo "fanout_t2_each=${T2[*]}"
echo "fanout_pair_each=${TP[*]}"
echo "fanout_efficiency=$(ratio "$t1" "$t2" 2)"
echo "fanout_machine_ceiling=$(ratio "$t1" "$tp" 1)"
echo "fanout_t1_cold_s=$t1c"
echo "fanout_t2_cold_s=$t2c"
echo "fanout_pair_cold_s=$tpc"
echo "fanout_efficiency_cold=$(ratio "$t1c" "$t2c" 2)"
echo "fanout_machine_ceiling_cold=$(ratio "$t1c" "$tpc" 1)"
