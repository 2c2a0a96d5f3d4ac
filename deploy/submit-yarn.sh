#!/usr/bin/env bash
# Submits one ggda run to YARN in cluster mode (the driver runs in the YARN application master).
#   deploy/submit-yarn.sh CONFIG.yaml [SUBCOMMAND [ggda options...]]
#   deploy/submit-yarn.sh conf/synthetic.yaml run --set output.path=hdfs:///user/me/ggda/run1
# Environment: GGDA_CLUSTER_SIZE (small | medium | large | gpu: which conf/spark-defaults-*.conf,
# default medium), SPARK_HOME, HADOOP_CONF_DIR (or YARN_CONF_DIR) as spark-submit needs them.
# The job's main returns after a successful run (never System.exit(0), which YARN would report as
# a failure) and exits non-zero on failure, so YARN's final status is the run's.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=${1:?usage: deploy/submit-yarn.sh CONFIG.yaml [SUBCOMMAND [ggda options...]]}
shift
command=${1:-run}
[ $# -gt 0 ] && shift
size=${GGDA_CLUSTER_SIZE:-medium}
jar="$root/target/ggda-job.jar"
[ -f "$jar" ] || { echo "submit-yarn: $jar is missing; build it with: mvn -B -DskipTests package" >&2; exit 2; }
[ -f "$config" ] || { echo "submit-yarn: config $config not found" >&2; exit 2; }

# --files localises the config and the log4j2 file into the driver's and executors' working
# directories, so the job reads the config by its base name.
exec "${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit" \
  --master yarn --deploy-mode cluster \
  --name "ggda $command $(basename "$config")" \
  --properties-file "$root/conf/spark-defaults-$size.conf" --load-spark-defaults \
  --files "$config,$root/conf/log4j2.properties" \
  --conf spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile=log4j2.properties \
  --conf spark.executor.defaultJavaOptions=-Dlog4j2.configurationFile=log4j2.properties \
  --conf spark.yarn.maxAppAttempts=1 \
  --class dev.ggda.cli.Main "$jar" \
  "$command" -c "$(basename "$config")" "$@"
