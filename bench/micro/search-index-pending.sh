#!/bin/bash
# The GIN pending list: N students inserted under pending-list limits and work_mem, then the list cleaned, both timed.
# Run bench/micro/search-index.sh first (it creates trgm_exp with pg_trgm). Usage: bench/micro/search-index-pending.sh [N=300000]
N=${1:-300000}
DB=trgm_exp
P="psql -qX -h 127.0.0.1 -U postgres -d $DB -v ON_ERROR_STOP=1"
variant() { # name, index ddl, session settings
  $P >/dev/null <<SQL
drop table if exists s;
create table s(id bigserial primary key, name text not null, email text not null, created_at timestamptz not null default now(), updated_at timestamptz not null default now());
create unique index on s(lower(email));
$2
checkpoint;
SQL
  w0=$($P -Atc "select wal_bytes from pg_stat_wal")
  t0=$(date +%s.%N)
  $P -c "$3" -c "insert into s(name,email) select f||' '||l, 'student'||i||'@example.edu' from generate_series(1,$N) i, lateral (select (array['Ana','Bo','Chen','Dara','Eli','Fatima','Goran','Hana','Iker','Jun','Kofi','Lea','Mateo','Nadia','Omar','Priya'])[1+(i::bigint*7919)%16] f, (array['Smith','García','Nguyen','O''Brien','Müller','Kowalski','Tanaka','Okafor','Rossi','Dubois','Larsen','Silva'])[1+(i::bigint*104729)%12] l) x"
  t1=$(date +%s.%N)
  w1=$($P -Atc "select wal_bytes from pg_stat_wal")
  t2=$(date +%s.%N)
  [ -n "$4" ] && $P -Atc "set maintenance_work_mem='$4'" -c "select gin_clean_pending_list(indexrelid::regclass) from pg_index i join pg_class c on c.oid=i.indexrelid join pg_am a on a.oid=c.relam where indrelid='s'::regclass and amname='gin'" >/dev/null
  t3=$(date +%s.%N)
  w2=$($P -Atc "select wal_bytes from pg_stat_wal")
  printf "%-28s %6.2f s + clean %5.2f s = %5.2f  %5d B WAL/row\n" "$1" "$(echo "$t1-$t0"|bc)" "$(echo "$t3-$t2"|bc)" "$(echo "$t1-$t0+$t3-$t2"|bc)" "$(( (w2-w0)/N ))"
}
G="create index on s using gin (name gin_trgm_ops, email gin_trgm_ops)"
for r in 1 2; do
variant none "" "select 1"
variant gin_default "$G;" "select 1" 64MB
variant gin_pl64_wm64 "$G with (gin_pending_list_limit=65536);" "set work_mem='64MB'" 256MB
variant gin_pl256_wm256 "$G with (gin_pending_list_limit=262144);" "set work_mem='256MB'" 256MB
variant gin_pl256_wm256_m1g "$G with (gin_pending_list_limit=262144);" "set work_mem='256MB'" 1GB
done
