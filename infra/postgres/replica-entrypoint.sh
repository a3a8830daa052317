#!/usr/bin/env bash
# docker-compose.yml's postgres-replica: clones the primary once (pg_basebackup through its own
# physical slot, created when missing), then runs as a hot standby with the primary's settings.
# The local equivalent is `infra/stack up replica`.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGPASSWORD=$REPLICATION_PASSWORD
conninfo="host=$PRIMARY_HOST port=$PRIMARY_PORT user=$REPLICATION_USER password=$REPLICATION_PASSWORD application_name=$REPLICA_SLOT"

until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT"; do sleep 1; done
psql -X -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" -d postgres -v ON_ERROR_STOP=1 -v slot="$REPLICA_SLOT" <<'SQL'
SELECT pg_create_physical_replication_slot(:'slot', true)
 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
SQL

mkdir -p "$PGDATA"
chown postgres:postgres "$PGDATA"
chmod 0700 "$PGDATA"
if [[ ! -s $PGDATA/PG_VERSION ]]; then
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" -w \
    -D "$PGDATA" -X stream -S "$REPLICA_SLOT" -c fast -R
fi
printf "primary_conninfo = '%s'\nprimary_slot_name = '%s'\n" "$conninfo" "$REPLICA_SLOT" >"$PGDATA/postgresql.auto.conf"
touch "$PGDATA/standby.signal"
chown postgres:postgres "$PGDATA/postgresql.auto.conf" "$PGDATA/standby.signal"

# The primary's settings (docker-compose.yml), plus the standby's own (infra/postgres/replica.conf.tmpl).
exec gosu postgres postgres -D "$PGDATA" \
  -c listen_addresses='*' -c max_connections="$PG_MAX_CONNECTIONS" -c shared_buffers=512MB -c effective_cache_size=8GB \
  -c work_mem=8MB -c random_page_cost=1.1 -c effective_io_concurrency=200 -c max_parallel_workers_per_gather=1 -c jit=off \
  -c hot_standby=on -c hot_standby_feedback=on -c max_standby_streaming_delay=5s -c wal_receiver_status_interval=1s
