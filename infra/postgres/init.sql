-- Idempotent: creates the application role and database when missing.
-- Run by infra/stack as the postgres superuser with: -v user=... -v password=... -v db=...
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
-- Statement statistics (the library is preloaded by postgresql.conf): the application role may
-- read them, `select * from pg_stat_statements order by total_exec_time desc`.
SELECT format('GRANT pg_read_all_stats TO %I', :'user') \gexec
\connect :db
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
