#!/bin/sh
# Runs before the broker's first start: formats its log directory with the SCRAM users in it.
# SCRAM users live in the cluster metadata and the controller quorum refuses to add them, so
# the admin (who could add the rest) must be there from the start. Does nothing once formatted.
# The tool takes passwords only as arguments: they go into a 0600 argument file that the java
# launcher expands, so no process listing shows them.
set -eu
umask 077
props=/tmp/modelgate-format.properties
cat > "$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@kafka:9093
controller.listener.names=CONTROLLER
listeners=CLIENT://:9092,CONTROLLER://:9093
listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
log.dirs=/var/lib/kafka/data
PROPS
args=/tmp/modelgate-format.args
scram() { printf -- '--add-scram\n"SCRAM-SHA-512=[name=%s,iterations=8192,password=%s]"\n' "$1" "$2"; }
{
  printf '%s\n' kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$CLUSTER_ID" --config "$props"
  scram admin "$MODELGATE_KAFKA_ADMIN_PASSWORD"
  scram ingest "$MODELGATE_KAFKA_INGEST_PASSWORD"
  scram validator "$MODELGATE_KAFKA_VALIDATOR_PASSWORD"
  scram registry "$MODELGATE_KAFKA_REGISTRY_PASSWORD"
  scram audit "$MODELGATE_KAFKA_AUDIT_PASSWORD"
  scram submitter "$MODELGATE_KAFKA_SUBMITTER_PASSWORD"
} > "$args"
/opt/kafka/bin/kafka-run-class.sh "@$args"
rm -f "$args"
