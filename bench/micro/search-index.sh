#!/bin/bash
# Times inserting N students (one INSERT … SELECT) under each search-index variant, and building the index after;
# prints seconds, WAL bytes per row and index size. Needs psql on 127.0.0.1 as postgres; uses (drops) the database trgm_exp.
# Usage: bench/micro/search-index.sh [N=300000]
N=${1:-300000}
DB=trgm_exp
psql -qX -h 127.0.0.1 -U postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
P="psql -qX -h 127.0.0.1 -U postgres -d $DB -v ON_ERROR_STOP=1"
$P -c "create extension pg_trgm"
variant() { # name, index ddl
  $P >/dev/null <<SQL
drop table if exists s;
create table s(id bigserial primary key, name text not null, email text not null, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create unique index on s(lower(email));
$2
checkpoint;
SQL
  w0=$($P -Atc "select wal_bytes from pg_stat_wal")
  t0=$(date +%s.%N)
  $P -c "insert into s(name,email) select f||' '||l, 'student'||i||'@example.edu' from generate_series(1,$N) i, lateral (select (array['Ana','Bo','Chen','Dara','Eli','Fatima','Goran','Hana','Iker','Jun','Kofi','Lea','Mateo','Nadia','Omar','Priya'])[1+(i::bigint*7919)%16] f, (array['Smith','García','Nguyen','O''Brien','Müller','Kowalski','Tanaka','Okafor','Rossi','Dubois','Larsen','Silva'])[1+(i::bigint*104729)%12] l) x"
  t1=$(date +%s.%N)
  w1=$($P -Atc "select wal_bytes from pg_stat_wal")
  sz=$($P -Atc "select coalesce(pg_size_pretty(sum(pg_relation_size(indexrelid))),'') from pg_index where indrelid='s'::regclass")
  printf "%-28s %6.2f s  %5d B WAL/row  idx %s\n" "$1" "$(echo "$t1-$t0"|bc)" "$(( (w1-w0)/N ))" "$sz"
}
for r in 1 2; do
variant none ""
variant gin2col "create index on s using gin (name gin_trgm_ops, email gin_trgm_ops);"
variant gin2col_nofast "create index on s using gin (name gin_trgm_ops, email gin_trgm_ops) with (fastupdate=off);"
variant gin_concat "create index on s using gin ((lower(name)||' '||lower(email)) gin_trgm_ops);"
variant gin_name_local "create index on s using gin (name gin_trgm_ops, split_part(email,'@',1) gin_trgm_ops);"
variant gist_sig64 "create index on s using gist ((lower(name)||' '||lower(email)) gist_trgm_ops(siglen=64));"
variant postbuild_gin2col "select 1;"
t0=$(date +%s.%N); $P -c "create index on s using gin (name gin_trgm_ops, email gin_trgm_ops)"; t1=$(date +%s.%N); printf "%-28s %6.2f s\n" "  +create index after" "$(echo "$t1-$t0"|bc)"
done
