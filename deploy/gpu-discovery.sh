#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript): prints the GPUs of
# this host (or container) as Spark's ResourceInformation JSON, e.g.
#   {"name": "gpu", "addresses": ["0", "1"]}
# Addresses are nvidia-smi indices, which is what Nd4jExecutorPlugin hands to ND4J's CUDA backend.
set -euo pipefail
indices=$(nvidia-smi --query-gpu=index --format=csv,noheader)
addresses=""
for i in $indices; do
  addresses="${addresses:+$addresses, }\"$i\""
done
echo "{\"name\": \"gpu\", \"addresses\": [$addresses]}"
