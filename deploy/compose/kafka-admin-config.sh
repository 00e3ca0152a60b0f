#!/bin/sh
# Sourced by the Kafka scripts below: writes the admin's client properties to a 0600 file and
# sets $ADMIN_CONFIG, so the password reaches the Kafka tools by file, never by argument.
umask 077
ADMIN_CONFIG=/tmp/modelgate-admin.properties
printf '%s\n' \
  'security.protocol=SASL_PLAINTEXT' \
  'sasl.mechanism=SCRAM-SHA-512' \
  "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"${MODELGATE_KAFKA_ADMIN_PASSWORD}\";" \
  > "$ADMIN_CONFIG"
