#!/usr/bin/env bash
# Samples the RSS of the next worker a benchmark starts (dist/workers/main.js), every 0.2 s until it exits:
# `bench/micro/rss.sh OUT & npm run bench -- imports`. OUT: "epoch-seconds VmRSS RssAnon RssFile threads" (kB).
out=$1; : > "$out"
until pid=$(pgrep -f "dist/workers/main.js" | head -1) && [ -n "$pid" ]; do sleep 0.2; done
while [ -e "/proc/$pid" ]; do
  echo "$(date +%s.%N) $(awk '/VmRSS|RssAnon|RssFile/{printf "%s ", $2}' "/proc/$pid/status") $(ls "/proc/$pid/task" | wc -l)" >> "$out"
  sleep 0.2
done
