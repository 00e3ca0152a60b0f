#!/bin/sh
# Healthy = the broker answers a client that authenticates (as the admin).
set -eu
. /etc/modelgate/kafka-admin-config.sh
exec /opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 \
  --command-config "$ADMIN_CONFIG" >/dev/null 2>&1
