#!/usr/bin/env bash
# The warehouse's least-privilege roles. Runs once when the PostgreSQL volume is created, after
# 10-bench.sql made the `bench` database; safe to run again, e.g. on a volume made before it
# existed: docker compose exec postgres bash /docker-entrypoint-initdb.d/20-bench-roles.sh
#
#   bench_writer  owns the `bench` database: migrations (`bench db upgrade`) and the workers' writes
#   bench_reader  may only SELECT the warehouse (`bench db upgrade` grants it): bench sql, dashboard
#
# Neither is a superuser (a superuser's read-only transaction still runs COPY ... TO PROGRAM and
# reads server files), and neither may connect to Airflow's metadata database.
: "${BENCH_WRITER_PASSWORD:?set BENCH_WRITER_PASSWORD}" "${BENCH_READER_PASSWORD:?set BENCH_READER_PASSWORD}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  -v writer_password="$BENCH_WRITER_PASSWORD" -v reader_password="$BENCH_READER_PASSWORD" \
  -v airflow_db="${POSTGRES_DB:-airflow}" <<'SQL'
SELECT 'CREATE ROLE bench_writer'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_writer') \gexec
SELECT 'CREATE ROLE bench_reader'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_reader') \gexec
ALTER ROLE bench_writer WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'writer_password';
ALTER ROLE bench_reader WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_password';
ALTER DATABASE bench OWNER TO bench_writer;
REVOKE CONNECT, TEMPORARY ON DATABASE :"airflow_db" FROM PUBLIC;

\connect bench
-- Tables an older volume made as POSTGRES_USER go to the writer, so that it can migrate them.
DO $$
DECLARE
  rel record;
BEGIN
  FOR rel IN
    SELECT c.oid::regclass AS name,
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END
             AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
       AND c.relowner <> 'bench_writer'::regrole
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO bench_writer', rel.kind, rel.name);
  END LOOP;
END
$$;
SQL
