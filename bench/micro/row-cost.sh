#!/bin/bash
# Per-row cost of the service's students + enrollments insert (60 transactions of 5,000 pairs, one connection), by what is
# removed: the history indexes, the check constraints, the foreign keys, the course index. The schema is copied from
# SCHEMA_DB (a migrated database, default enroll_bench_imports) into trgm_exp. Usage: bench/micro/row-cost.sh [N=300000]
N=${1:-300000}
psql -qX -h 127.0.0.1 -U postgres -c "create database trgm_exp" >/dev/null 2>&1 || true
P="psql -qX -h 127.0.0.1 -U postgres -d trgm_exp -v ON_ERROR_STOP=1"
setup() {
  $P -c "drop table if exists course_enrollments, students, courses cascade" >/dev/null
  pg_dump -s -h 127.0.0.1 -U postgres -d ${SCHEMA_DB:-enroll_bench_imports} -t students -t courses -t course_enrollments | grep -v "students_search_trgm_idx\|^SET \|set_config" | $P >/dev/null 2>&1
  $P -c "insert into courses(name) select 'Course '||i from generate_series(1,1000) i" >/dev/null
  $P -c "$1" >/dev/null
  $P -c "checkpoint" >/dev/null
}
run() {
  setup "$2"
  t0=$(date +%s.%N)
  for b in $(seq 0 $((N/5000-1))); do
    $P -c "with created as (insert into students(name,email,created_by,created_line) select 'Name '||i, 'student'||i||'@example.edu', 7, i from generate_series($((b*5000)),$((b*5000+4999))) i order by i returning id, lower(email) as ek, created_line)
      insert into course_enrollments(course_id, student_id, active, source, created_by, created_line) select 1 + (s.created_line::int8 * 7919) % 1000, s.id, true, null, 7, s.created_line from created s order by s.created_line"
  done
  t1=$(date +%s.%N)
  printf "%-22s %6.2f s\n" "$1" "$(echo "$t1-$t0"|bc)"
}
for r in 1 2; do
run full "select 1"
run no_created_by_idx "drop index students_created_by_idx; drop index course_enrollments_created_by_idx"
run no_checks "alter table students drop constraint students_email_trimmed, drop constraint students_name_valid; alter table course_enrollments drop constraint course_enrollments_source_valid"
run no_fks "alter table course_enrollments drop constraint course_enrollments_course_id_fkey, drop constraint course_enrollments_student_id_fkey"
run no_course_idx "drop index course_enrollments_course_id_idx"
done
