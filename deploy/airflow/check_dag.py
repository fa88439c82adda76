#!/usr/bin/env python3
"""Checks sparse_transfer_dag.py without Airflow: python3 deploy/airflow/check_dag.py DAG_FILE APP_JAR

1. The file compiles; by its AST, every SparkSubmitOperator call and the DAG's default_args use only
   argument names that SparkSubmitOperator and BaseOperator accept (apache-airflow-providers-apache-spark
   4.x/5.x, Airflow 2.x/3.x), and nothing is passed through ** (which could not be checked).
2. Run against stand-ins for the few Airflow names it imports, it builds tasks whose ids are unique,
   whose java_class is a class with a main method in APP_JAR and whose first application argument is a
   sparse-transfer command, in the chain ingest -> upstream -> prune_* (parallel) -> control -> transfer -> report,
   with no cycle; schedule is None and retries are set.
Prints every problem found and exits 1 if there is any.
"""

import ast
import os
import sys
import types
import zipfile

SPARK_SUBMIT_ARGS = {
    "application", "conf", "conn_id", "files", "py_files", "archives", "driver_class_path", "jars",
    "java_class", "packages", "exclude_packages", "repositories", "total_executor_cores", "executor_cores",
    "executor_memory", "driver_memory", "keytab", "principal", "proxy_user", "name", "num_executors",
    "status_poll_interval", "application_args", "env_vars", "verbose", "spark_binary", "properties_file",
    "yarn_queue", "deploy_mode", "use_krb5ccache",
}
BASE_OPERATOR_ARGS = {
    "task_id", "owner", "email", "email_on_retry", "email_on_failure", "retries", "retry_delay",
    "retry_exponential_backoff", "max_retry_delay", "start_date", "end_date", "depends_on_past",
    "wait_for_downstream", "dag", "params", "default_args", "priority_weight", "weight_rule", "queue", "pool",
    "pool_slots", "execution_timeout", "on_execute_callback", "on_failure_callback", "on_success_callback",
    "on_retry_callback", "trigger_rule", "run_as_user", "max_active_tis_per_dag", "executor_config",
    "do_xcom_push", "inlets", "outlets", "task_group", "doc", "doc_md", "doc_json", "doc_yaml", "doc_rst",
}
COMMANDS = {"ingest", "upstream", "prune", "control", "transfer", "report", "pipeline"}


def called_name(call):
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", None)


def check_ast(tree, problems):
    operators = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = called_name(node)
        if name == "SparkSubmitOperator":
            operators += 1
            for keyword in node.keywords:
                if keyword.arg is None:
                    problems.append(f"line {node.lineno}: SparkSubmitOperator(**...) cannot be checked; name the arguments")
                elif keyword.arg not in SPARK_SUBMIT_ARGS | BASE_OPERATOR_ARGS:
                    problems.append(f"line {node.lineno}: SparkSubmitOperator has no argument '{keyword.arg}'")
        elif name == "DAG":
            for keyword in node.keywords:
                if keyword.arg == "default_args" and isinstance(keyword.value, ast.Dict):
                    for key in keyword.value.keys:
                        if isinstance(key, ast.Constant) and key.value not in BASE_OPERATOR_ARGS:
                            problems.append(f"line {key.lineno}: default_args has '{key.value}', not an operator argument")
    if operators == 0:
        problems.append("no SparkSubmitOperator call found")


class Task:
    def __init__(self, dag, kwargs):
        self.task_id = kwargs.get("task_id")
        self.kwargs = kwargs
        self.downstream = set()
        dag.add(self)

    def _link(self, others, forward):
        for other in others if isinstance(others, (list, tuple)) else [others]:
            (self if forward else other).downstream.add((other if forward else self).task_id)
        return others

    def __rshift__(self, other):
        return self._link(other, True)

    def __lshift__(self, other):
        return self._link(other, False)

    def __rrshift__(self, other):
        self._link(other, False)
        return self

    def __rlshift__(self, other):
        self._link(other, True)
        return self


class Dag:
    current = None

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.tasks = {}
        self.duplicates = []

    def add(self, task):
        if task.task_id in self.tasks:
            self.duplicates.append(task.task_id)
        self.tasks[task.task_id] = task

    def __enter__(self):
        Dag.current = self
        return self

    def __exit__(self, *exc):
        return False


def stand_in_airflow():
    def operator(**kwargs):
        if Dag.current is None:
            raise RuntimeError("SparkSubmitOperator created outside the DAG's with-block")
        return Task(Dag.current, kwargs)

    def param(default=None, **kwargs):
        return default

    modules = {}
    for name in ["airflow", "airflow.sdk", "airflow.models", "airflow.models.param", "airflow.providers",
                 "airflow.providers.apache", "airflow.providers.apache.spark",
                 "airflow.providers.apache.spark.operators", "airflow.providers.apache.spark.operators.spark_submit"]:
        modules[name] = types.ModuleType(name)
    modules["airflow"].DAG = modules["airflow.sdk"].DAG = Dag
    modules["airflow.sdk"].Param = modules["airflow.models.param"].Param = param
    modules["airflow.providers.apache.spark.operators.spark_submit"].SparkSubmitOperator = operator
    sys.modules.update(modules)


def has_main(jar, class_name, problems):
    entry = class_name.replace(".", "/") + ".class"
    try:
        with zipfile.ZipFile(jar) as archive:
            data = archive.read(entry)
    except KeyError:
        problems.append(f"java_class {class_name} is not in {jar}")
        return
    if b"main" not in data or b"([Ljava/lang/String;)V" not in data:
        problems.append(f"java_class {class_name} in {jar} has no main(String[]) method")


def check_graph(dag, jar, problems):
    for duplicate in dag.duplicates:
        problems.append(f"task id '{duplicate}' is used twice")
    if dag.kwargs.get("schedule", "missing") is not None:
        problems.append("schedule must be None (trigger runs; see the docstring for a cron example)")
    if not dag.kwargs.get("default_args", {}).get("retries"):
        problems.append("default_args must set retries")
    prune = sorted(t for t in dag.tasks if t.startswith("prune_"))
    if not prune:
        problems.append("no prune_<method> task")
    expected = {("ingest", "upstream"), ("control", "transfer"), ("transfer", "report")}
    expected |= {("upstream", p) for p in prune} | {(p, "control") for p in prune}
    actual = {(t.task_id, d) for t in dag.tasks.values() for d in t.downstream}
    for missing in sorted(expected - actual):
        problems.append(f"missing dependency {missing[0]} >> {missing[1]}")
    for extra in sorted(actual - expected):
        problems.append(f"unexpected dependency {extra[0]} >> {extra[1]}")
    for task in dag.tasks.values():
        java_class = task.kwargs.get("java_class")
        if not java_class:
            problems.append(f"task {task.task_id} has no java_class")
        else:
            has_main(jar, java_class, problems)
        args = task.kwargs.get("application_args") or []
        if not args or args[0] not in COMMANDS:
            problems.append(f"task {task.task_id}: application_args must start with one of {sorted(COMMANDS)}")
        if task.task_id.startswith("prune_") and args[1:3] != ["--method", task.task_id[len("prune_"):]]:
            problems.append(f"task {task.task_id} must run: prune --method {task.task_id[len('prune_'):]}")
    # No cycle: Kahn's algorithm consumes every task.
    incoming = {t: 0 for t in dag.tasks}
    for _, downstream in actual:
        incoming[downstream] = incoming.get(downstream, 0) + 1
    ready = [t for t, n in incoming.items() if n == 0]
    seen = 0
    while ready:
        task = ready.pop()
        seen += 1
        for downstream in dag.tasks[task].downstream:
            incoming[downstream] -= 1
            if incoming[downstream] == 0:
                ready.append(downstream)
    if seen != len(dag.tasks):
        problems.append("the dependencies have a cycle")


def main(dag_file, jar):
    problems = []
    source = open(dag_file, encoding="utf-8").read()
    code = compile(source, dag_file, "exec")
    check_ast(ast.parse(source, dag_file), problems)
    stand_in_airflow()
    # The DAG asks the application for its plan (plan --json): the jar under check answers
    # (SPARSE_TRANSFER_PLAN_COMMAND, when set, says how to launch it without spark-submit).
    os.environ.setdefault("SPARSE_TRANSFER_APP_JAR", jar)
    namespace = {"__name__": "sparse_transfer_dag", "__file__": dag_file}
    exec(code, namespace)
    dags = [v for v in namespace.values() if isinstance(v, Dag)]
    if len(dags) != 1:
        problems.append(f"expected one DAG, found {len(dags)}")
    else:
        check_graph(dags[0], jar, problems)
    for problem in problems:
        print(f"{dag_file}: {problem}")
    if not problems:
        print(f"{dag_file}: OK ({len(dags[0].tasks)} tasks: {', '.join(dags[0].tasks)})")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
