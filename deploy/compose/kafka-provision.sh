#!/bin/sh
# Runs once the broker is healthy, as its admin: creates the gate's topics and the ACLs of
# modelgate_shared.kafka.acls, rendered into kafka-acls.txt. Idempotent (--if-not-exists; an
# ACL that exists is no error), so it runs on every `docker compose up`.
set -eu
. /etc/modelgate/kafka-admin-config.sh
bin=/opt/kafka/bin
server=kafka:9092
grep -v '^#' /etc/modelgate/kafka-acls.txt | while read -r kind a b c rest; do
  case "$kind" in
    topic)
      "$bin/kafka-topics.sh" --bootstrap-server "$server" --command-config "$ADMIN_CONFIG" \
        --create --if-not-exists --topic "$a" --partitions 3 --replication-factor 1 \
        --config "cleanup.policy=$b"
      ;;
    acl)
      names=""
      for name in $rest; do names="$names --$c $name"; done
      # shellcheck disable=SC2086 # one flag and one name per word
      "$bin/kafka-acls.sh" --bootstrap-server "$server" --command-config "$ADMIN_CONFIG" \
        --add --allow-principal "User:$a" --operation "$b" $names
      ;;
  esac
done
