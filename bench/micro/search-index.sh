#!/bin/bash
# The student search's trigram index and a load of new students, measured with psql (uses, and drops, the database trgm_exp):
#   bench/micro/search-index.sh [N=300000]          N students in one INSERT … SELECT under each index variant, then the
#                                                   GIN built over the loaded table instead;
#   bench/micro/search-index.sh [N=300000] pending  the GIN with larger pending lists and work_mem, the list cleaned after.
# Prints the insert's seconds, the clean's, WAL bytes per row and the indexes' size, two rounds each.
N=${1:-300000}
DB=trgm_exp
psql -qX -h 127.0.0.1 -U postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
P="psql -qX -h 127.0.0.1 -U postgres -d $DB -v ON_ERROR_STOP=1"
$P -c "create extension pg_trgm"
variant() { # name, index ddl, [session settings], [maintenance_work_mem to clean the pending list with]
  $P >/dev/null <<SQL
drop table if exists s;
create table s(id bigserial primary key, name text not null, email text not null, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create unique index on s(lower(email));
$2
checkpoint;
SQL
  w0=$($P -Atc "select wal_bytes from pg_stat_wal")
  t0=$(date +%s.%N)
  $P -c "${3:-select}" -c "insert into s(name,email) select f||' '||l, 'student'||i||'@example.edu' from generate_series(1,$N) i, lateral (select (array['Ana','Bo','Chen','Dara','Eli','Fatima','Goran','Hana','Iker','Jun','Kofi','Lea','Mateo','Nadia','Omar','Priya'])[1+(i::bigint*7919)%16] f, (array['Smith','García','Nguyen','O''Brien','Müller','Kowalski','Tanaka','Okafor','Rossi','Dubois','Larsen','Silva'])[1+(i::bigint*104729)%12] l) x" >/dev/null
  t1=$(date +%s.%N)
  [ -n "$4" ] && $P -Atc "set maintenance_work_mem='$4'" -c "select gin_clean_pending_list(indexrelid::regclass) from pg_index i join pg_class c on c.oid=i.indexrelid join pg_am a on a.oid=c.relam where indrelid='s'::regclass and amname='gin'" >/dev/null
  t2=$(date +%s.%N)
  w1=$($P -Atc "select wal_bytes from pg_stat_wal")
  sz=$($P -Atc "select pg_size_pretty(sum(pg_relation_size(indexrelid))) from pg_index where indrelid='s'::regclass")
  printf "%-24s insert %6.2f s  clean %5.2f s  %5d B WAL/row  indexes %s\n" "$1" "$(echo "$t1-$t0"|bc)" "$(echo "$t2-$t1"|bc)" "$(( (w1-w0)/N ))" "$sz"
}
G="create index on s using gin (name gin_trgm_ops, email gin_trgm_ops)"
for r in 1 2; do
  if [ "$2" = pending ]; then
    variant gin_default "$G;" "" 64MB
    variant gin_pl64_wm64 "$G with (gin_pending_list_limit=65536);" "set work_mem='64MB'" 256MB
    variant gin_pl256_wm256 "$G with (gin_pending_list_limit=262144);" "set work_mem='256MB'" 256MB
    variant gin_pl256_wm256_m1g "$G with (gin_pending_list_limit=262144);" "set work_mem='256MB'" 1GB
    continue
  fi
  variant none ""
  variant gin2col "$G;"
  variant gin2col_nofast "$G with (fastupdate=off);"
  variant gin_concat "create index on s using gin ((lower(name)||' '||lower(email)) gin_trgm_ops);"
  variant gin_name_local "create index on s using gin (name gin_trgm_ops, split_part(email,'@',1) gin_trgm_ops);"
  variant gist_sig64 "create index on s using gist ((lower(name)||' '||lower(email)) gist_trgm_ops(siglen=64));"
  variant gin_built_after ""
  t0=$(date +%s.%N); $P -c "$G"; t1=$(date +%s.%N)
  printf "%-24s build  %6.2f s\n" "  then the GIN built" "$(echo "$t1-$t0"|bc)"
done
