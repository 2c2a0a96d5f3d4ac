"""Airflow DAG: one ggda attribution run per day on YARN over a growing table, then a check that it
completed. With a pinned model and a feature store, a day's run featurizes only that day's new files.

Each run writes to its own folder, OUTPUT_ROOT/<run date>, so runs never collide and a rerun of a
date replaces only that date (output.mode=overwrite: ggda replaces an existing output only with a
completed run, so a retry after a failure mid-run is safe). The check task fails the DAG run when
the output has no _SUCCESS marker, which ggda writes last.

Needs apache-airflow-providers-apache-spark on the workers, a Spark connection `spark_default`
whose host is `yarn` (spark-submit and HADOOP_CONF_DIR on the worker), and the Hadoop CLI for the
check. Paths below are examples: the jar and config on the Airflow worker, the output on HDFS.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

GGDA_HOME = "/opt/ggda"
JOB_JAR = GGDA_HOME + "/target/ggda-job.jar"
CONFIG = GGDA_HOME + "/conf/attribution.yaml"
OUTPUT_ROOT = "hdfs:///data/ggda/runs"
OUTPUT = OUTPUT_ROOT + "/{{ ds }}"  # templated: one folder per run date
# The model is pinned (trained once, or retrained on its own schedule) and the feature store keeps
# every input file's featurized groups under a key of that model: each daily run featurizes only
# the files added since the previous one (deploy/README.md, "Incremental runs"). A new model gets a
# new key, and the first run after it featurizes everything once.
MODEL = "hdfs:///data/ggda/models/current"
STORE = "hdfs:///data/ggda/feature-store"

# conf/spark-defaults-medium.conf as a dict (SparkSubmitOperator has no --load-spark-defaults, so
# a --properties-file would hide the cluster's own spark-defaults.conf). ND4J off-heap sizing:
# maxbytes = memoryOverhead - 512m, maxphysicalbytes = memory + memoryOverhead (deploy/README.md).
SPARK_CONF = {
    "spark.submit.deployMode": "cluster",
    "spark.yarn.maxAppAttempts": "1",
    "spark.plugins": "dev.ggda.spark.Nd4jExecutorPlugin",
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.executor.instances": "16",
    "spark.executor.cores": "4",
    "spark.executor.memory": "16g",
    "spark.executor.memoryOverhead": "8g",
    "spark.executor.extraJavaOptions": "-Dorg.bytedeco.javacpp.maxbytes=7680m"
    " -Dorg.bytedeco.javacpp.maxphysicalbytes=24576m -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache",
    "spark.task.cpus": "1",
    "spark.executorEnv.OMP_NUM_THREADS": "1",
    "spark.driver.memory": "8g",
    "spark.driver.memoryOverhead": "4g",
    "spark.driver.extraJavaOptions": "-Dorg.bytedeco.javacpp.maxbytes=3584m"
    " -Dorg.bytedeco.javacpp.maxphysicalbytes=12288m -Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp-cache",
    "spark.driver.maxResultSize": "4g",
    "spark.sql.shuffle.partitions": "192",
    "spark.default.parallelism": "192",
}

default_args = {
    "owner": "ggda",
    "retries": 2,
    "retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=8),
}

with DAG(
    dag_id="ggda_daily_attribution",
    description="Group data attribution of the day's model, one output folder per run date",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=default_args,
    tags=["ggda", "spark"],
) as dag:
    attribute = SparkSubmitOperator(
        task_id="attribute",
        conn_id="spark_default",
        application=JOB_JAR,
        java_class="dev.ggda.cli.Main",
        name="ggda-{{ ds_nodash }}",
        files=CONFIG,  # localised into the driver's working directory (cluster mode)
        conf=SPARK_CONF,
        application_args=[
            "run",
            "-c", CONFIG.rsplit("/", 1)[-1],
            "--set", "output.path=" + OUTPUT,
            "--set", "output.mode=overwrite",
            "--set", "model.load=" + MODEL,
            "--set", "incremental.store=" + STORE,
        ],
    )

    check_success = BashOperator(
        task_id="check_success",
        bash_command="hadoop fs -test -e " + OUTPUT + "/_SUCCESS",
        retries=0,
    )

    attribute >> check_success
