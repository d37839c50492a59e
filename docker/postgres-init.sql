-- Runs once, when the PostgreSQL volume is created: the warehouse gets its own database beside
-- Airflow's metadata database (POSTGRES_DB), owned by the same user.
CREATE DATABASE bench;
