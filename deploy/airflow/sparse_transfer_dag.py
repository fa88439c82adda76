"""Airflow DAG: one sparse-transfer experiment as a chain of spark-submit applications.

    ingest -> upstream -> prune_<method> (one per method, in parallel) -> transfer -> report

Every stage is idempotent and resumable (it skips what the warehouse already holds), so a retried or
re-triggered task continues where the last attempt stopped; prune tasks of different methods may run
at once on one warehouse. Runtime parameters (Trigger DAG w/ config): ``config`` (experiment YAML),
``warehouse`` (the --out directory, seen by the driver and every executor) and ``spark_properties``
(a properties file from conf/spark/). The Spark connection is a parse-time setting (Airflow does not
template ``conn_id``): the environment variable SPARSE_TRANSFER_SPARK_CONN, default ``spark_default``.

Install: copy this file into the DAGs folder, and the application jar and conf/ where the Airflow
workers can read them (SPARSE_TRANSFER_HOME, default /opt/sparse-transfer). Needs
apache-airflow-providers-apache-spark and a Spark 4.0 (Scala 2.13) spark-submit on the workers.
Runs when triggered (schedule=None); for a nightly run set, for example, schedule="0 2 * * *".
"""

import os
from datetime import datetime, timedelta, timezone

try:  # Airflow 3
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.models.param import Param
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

HOME = os.environ.get("SPARSE_TRANSFER_HOME", "/opt/sparse-transfer")
APPLICATION_JAR = f"{HOME}/sparse-transfer-app.jar"
MAIN_CLASS = "org.sparsetransfer.jobs.cli.SparseTransferCli"
SPARK_CONN_ID = os.environ.get("SPARSE_TRANSFER_SPARK_CONN", "spark_default")
# The pruning methods of the experiments this DAG runs (dense is the upstream checkpoint itself);
# each must be in the config's pruning.methods.
PRUNE_METHODS = os.environ.get("SPARSE_TRANSFER_PRUNE_METHODS", "oneshot,gmp,gmp_star,imp,colt").split(",")

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
        "config": Param(f"{HOME}/conf/tiny.yaml", type="string", description="Experiment config (YAML)"),
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
    transfer = stage("transfer", "transfer")
    report = stage("report", "report")

    ingest >> upstream >> prune >> transfer >> report
