"""Airflow DAG: one sparse-transfer experiment as a chain of spark-submit applications.

    ingest -> upstream -> prune_<method> (one per method, in parallel) -> transfer -> report

Every stage is idempotent and resumable (it skips what the warehouse already holds), so a retried or
re-triggered task continues where the last attempt stopped; prune tasks of different methods may run
at once on one warehouse. Runtime parameters (Trigger DAG w/ config): ``config`` (experiment YAML),
``warehouse`` (the --out directory, seen by the driver and every executor) and ``spark_properties``
(a properties file from conf/spark/). The Spark connection is a parse-time setting (Airflow does not
template ``conn_id``): the environment variable SPARSE_TRANSFER_SPARK_CONN, default ``spark_default``.

The prune tasks are the plan's: when the DAG file is parsed it runs the application's own
``plan --json`` (through spark-submit, no Spark session is started) on the parse-time config (SPARSE_TRANSFER_CONFIG, default the tiny config) and makes
one prune task per pruning method it lists; or it reads that JSON from the file SPARSE_TRANSFER_PLAN
(write it with ``bin/sparse-transfer plan --json --config CONFIG > plan.json`` where the scheduler
cannot start a JVM). Trigger it with the same config.

Install: copy this file into the DAGs folder, and the application jar and conf/ where the Airflow
workers can read them (SPARSE_TRANSFER_HOME, default /opt/sparse-transfer). Needs
apache-airflow-providers-apache-spark and a Spark 4.0 (Scala 2.13) spark-submit on the workers.
Runs when triggered (schedule=None); for a nightly run set, for example, schedule="0 2 * * *".
"""

import json
import os
import subprocess
from datetime import datetime, timedelta, timezone

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.models.param import Param
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

HOME = os.environ.get("SPARSE_TRANSFER_HOME", "/opt/sparse-transfer")
APPLICATION_JAR = os.environ.get("SPARSE_TRANSFER_APP_JAR", f"{HOME}/sparse-transfer-app.jar")
MAIN_CLASS = "org.sparsetransfer.jobs.cli.SparseTransferCli"
SPARK_CONN_ID = os.environ.get("SPARSE_TRANSFER_SPARK_CONN", "spark_default")
CONFIG = os.environ.get("SPARSE_TRANSFER_CONFIG", f"{HOME}/conf/tiny.yaml")


def plan():
    """The experiment's plan as the application prints it (plan --json), from SPARSE_TRANSFER_PLAN or the jar."""
    path = os.environ.get("SPARSE_TRANSFER_PLAN")
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    # The application jar leaves Spark and Hadoop to spark-submit, which the workers have for the tasks below;
    # SPARSE_TRANSFER_PLAN_COMMAND replaces the launcher (e.g. a checkout's bin/sparse-transfer).
    launcher = os.environ.get("SPARSE_TRANSFER_PLAN_COMMAND",
                              f"spark-submit --master local[1] --class {MAIN_CLASS} {APPLICATION_JAR}").split()
    command = [*launcher, "plan", "--json", "--config", CONFIG]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


# One prune task per pruning method of the plan (dense is the upstream checkpoint itself).
PRUNE_METHODS = [method["key"] for method in plan()["prune_methods"]]

with DAG(
    dag_id="sparse_transfer",
    description="Dense upstream, pruning per method, transfer grid and report of one sparse-transfer experiment",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
    },
    params={
        "config": Param(CONFIG, type="string", description="Experiment config (YAML); the prune tasks are this file's plan's"),
        "warehouse": Param("/shared/sparse-transfer/warehouse", type="string",
                           description="Warehouse directory (--out), visible to the driver and all executors"),
        "spark_properties": Param(f"{HOME}/conf/spark/standalone.conf", type="string",
                                  description="Spark properties file (see conf/spark/)"),
    },
    tags=["sparse-transfer"],
) as dag:

    def stage(task_id, *command):
        return SparkSubmitOperator(
            task_id=task_id,
            conn_id=SPARK_CONN_ID,
            application=APPLICATION_JAR,
            java_class=MAIN_CLASS,
            name=f"sparse-transfer {task_id}",
            properties_file="{{ params.spark_properties }}",
            deploy_mode="client",
            application_args=[*command, "--config", "{{ params.config }}", "--out", "{{ params.warehouse }}"],
            conf={"spark.executorEnv.DJL_OFFLINE": "true"},
            env_vars={"DJL_OFFLINE": "true"},
        )

    ingest = stage("ingest", "ingest")
    upstream = stage("upstream", "upstream")
    prune = [stage(f"prune_{method}", "prune", "--method", method) for method in PRUNE_METHODS]
    # The compute-matched dense control (controls.dense_extended) needs every pruned checkpoint; without it the command does nothing.
    control = stage("control", "control")
    transfer = stage("transfer", "transfer")
    report = stage("report", "report")

    ingest >> upstream >> prune >> control >> transfer >> report
