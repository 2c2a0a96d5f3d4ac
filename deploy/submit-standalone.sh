#!/usr/bin/env bash
# Submits one ggda run to a Spark standalone cluster in client mode (the driver runs here).
#   deploy/submit-standalone.sh spark://master:7077 CONFIG.yaml [SUBCOMMAND [ggda options...]]
# Environment: GGDA_CLUSTER_SIZE (small | medium | large | gpu, default small), SPARK_HOME.
# Output paths must be reachable from every worker (hdfs://, s3a://, or a shared file system).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
master=${1:?usage: deploy/submit-standalone.sh spark://HOST:7077 CONFIG.yaml [SUBCOMMAND [ggda options...]]}
config=${2:?usage: deploy/submit-standalone.sh spark://HOST:7077 CONFIG.yaml [SUBCOMMAND [ggda options...]]}
shift 2
command=${1:-run}
[ $# -gt 0 ] && shift
size=${GGDA_CLUSTER_SIZE:-small}
jar="$root/target/ggda-job.jar"
[ -f "$jar" ] || { echo "submit-standalone: $jar is missing; build it with: mvn -B -DskipTests package" >&2; exit 2; }

# Standalone has no executor-instance count: spark.cores.max caps the cores the run takes
# (executor size comes from the spark-defaults file).
exec "${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit" \
  --master "$master" --deploy-mode client \
  --name "ggda $command $(basename "$config")" \
  --properties-file "$root/conf/spark-defaults-$size.conf" --load-spark-defaults \
  --conf spark.driver.defaultJavaOptions=-Dlog4j2.configurationFile="$root/conf/log4j2.properties" \
  --conf spark.cores.max="${GGDA_MAX_CORES:-32}" \
  --class dev.ggda.cli.Main "$jar" \
  "$command" -c "$config" "$@"
