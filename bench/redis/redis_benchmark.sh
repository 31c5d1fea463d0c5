#!/usr/bin/env bash
# redis_get_set with redis-benchmark (the C ceiling): 50 clients, SET and GET, with
# pipeline depth DEPTH; prints the same key=value line as the acio and redis-py programs:
# the two tests' combined throughput and the client's CPU per command (user + sys of the
# redis-benchmark process, from GNU time).
# Usage: redis_benchmark.sh PORT OPS DEPTH
set -euo pipefail
port=$1 ops=$2 depth=$3
out=$(mktemp) tm=$(mktemp)
trap 'rm -f "$out" "$tm"' EXIT
half=$((ops / 2))
start=$(date +%s.%N)
/usr/bin/time -f '%U %S' -o "$tm" redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$half" \
    -P "$depth" -t set,get -q --csv >"$out"
end=$(date +%s.%N)
read -r user sys <"$tm"
awk -v user="$user" -v sys="$sys" -v ops="$((half * 2))" -v wall="$(awk "BEGIN{print $end-$start}")" '
    BEGIN { FS = "," }
    { gsub(/"/, ""); if ($2 + 0 > 0) { n++; inv += 1 / ($2 + 0) } }
    END { printf "ops_per_s=%.0f cpu_ns_per_op=%.1f wall_s=%.3f\n", n / inv, (user + sys) * 1e9 / ops, wall }' "$out"
