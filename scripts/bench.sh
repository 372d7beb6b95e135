#!/usr/bin/env bash
# Tessera's benchmark harness (SPEC §16, docs/performance.md): `make bench` / `make bench-quick`.
#
#   scripts/bench.sh quick   # 10 tenants x 10 users, short runs   (< 2 min once built)
#   scripts/bench.sh full    # 100 tenants x 100 users, longer runs (< 10 min once built)
#
# Builds the release binaries, then for SQLite (always) and PostgreSQL (when
# TESSERA_TEST_DATABASE_URL is set; + Redis when TESSERA_TEST_REDIS_URL is set): starts Tessera
# with its default configuration on a fresh database, seeds it through the REST API, starts the
# bare baseline server on the same database, runs every scenario at the same concurrency
# against them, samples RSS and CPU, and finally prints the tables and writes
# target/bench/results.json. Every process it starts is stopped on exit, whatever happens.
#
# Knobs (environment): BENCH_CONCURRENCY (32), BENCH_DURATION_S, BENCH_WARMUP_S,
# BENCH_TENANTS, BENCH_USERS, BENCH_SKIP_BUILD=1, BENCH_BIN_DIR (prebuilt binaries),
# BENCH_OUT (target/bench), BENCH_PERF=1 (profile the authenticated read with `perf`), CARGO.
set -euo pipefail

MODE=${1:-quick}
case "$MODE" in
quick) TENANTS=10 USERS=10 WARMUP=1 DURATION=4 ;;
full) TENANTS=100 USERS=100 WARMUP=3 DURATION=15 ;;
*)
	echo "usage: $0 [quick|full]" >&2
	exit 2
	;;
esac
TENANTS=${BENCH_TENANTS:-$TENANTS}
USERS=${BENCH_USERS:-$USERS}
WARMUP=${BENCH_WARMUP_S:-$WARMUP}
DURATION=${BENCH_DURATION_S:-$DURATION}
CONCURRENCY=${BENCH_CONCURRENCY:-32}
CARGO=${CARGO:-cargo}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${BENCH_OUT:-$ROOT/target/bench}
RAW=$OUT/raw
BIN=${BENCH_BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
START_TIME=$(date +%s)

# The servers must run with their defaults: keep the two test URLs, drop every other
# TESSERA_* variable of the caller (a TESSERA_ENV=test would make Argon2 cheap, for one).
PG_ADMIN_URL=${TESSERA_TEST_DATABASE_URL:-}
REDIS_URL=${TESSERA_TEST_REDIS_URL:-}
for var in $(compgen -e | grep '^TESSERA_' || true); do unset "$var"; done
unset RUST_LOG

log() { printf '[bench %3ss] %s\n' "$(($(date +%s) - START_TIME))" "$*" >&2; }

# --- processes we start, and their cleanup -----------------------------------------------
PIDS=()
TMP_DIRS=()
PG_DATABASES=()

stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
	local status=$? pid db dir
	trap - EXIT INT TERM
	for pid in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$pid"; done
	for db in "${PG_DATABASES[@]+"${PG_DATABASES[@]}"}"; do
		"$BIN/tessera-baseline" pg drop --admin-url "$PG_ADMIN_URL" --database "$db" >/dev/null 2>&1 ||
			echo "could not drop database $db" >&2
	done
	for dir in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf "$dir"; done
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build ---------------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
	log "building release binaries (a clean build takes ~10 min on 2 cores)"
	# tessera-repository is named too so that its default features (sea, redis) are on even
	# when the server's own manifest forgets one (cargo unifies features over the packages built).
	"$CARGO" build --release -p tessera-server -p tessera-loadgen -p tessera-baseline -p tessera-repository
fi
for b in tessera tessera-loadgen tessera-baseline; do
	[[ -x $BIN/$b ]] || {
		echo "missing $BIN/$b" >&2
		exit 1
	}
done
LOADGEN=$BIN/tessera-loadgen

# --- CPU pinning: server(s) on one core, load generator on another ------------------------
expand_cpus() { # "0-2,5" -> "0 1 2 5"
	local part out=()
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then out+=($(seq "${part%-*}" "${part#*-}")); else out+=("$part"); fi
	done
	echo "${out[@]}"
}
SERVER_PIN=() CLIENT_PIN=() SERVER_CPUS="" CLIENT_CPUS=""
SERVER_CORES=$(nproc)
if command -v taskset >/dev/null 2>&1; then
	read -ra ALLOWED <<<"$(expand_cpus "$(taskset -pc $$ | sed 's/.*: //')")"
	if ((${#ALLOWED[@]} >= 2)); then
		SERVER_CPUS=${ALLOWED[0]}
		CLIENT_CPUS=${ALLOWED[1]}
		SERVER_PIN=(taskset -c "$SERVER_CPUS")
		CLIENT_PIN=(taskset -c "$CLIENT_CPUS")
		SERVER_CORES=1
	fi
fi
if [[ -n $SERVER_CPUS ]]; then
	log "pinning: servers on CPU $SERVER_CPUS, load generator on CPU $CLIENT_CPUS (of $(nproc) online)"
else
	log "not pinning (taskset missing or fewer than 2 CPUs): load generator and servers share the CPUs"
fi

rm -rf "$RAW"
mkdir -p "$RAW"
log "mode $MODE: $TENANTS tenants x $USERS users, concurrency $CONCURRENCY, warm-up ${WARMUP}s, runs ${DURATION}s"

log "load average before starting: $(cut -d' ' -f1-3 /proc/loadavg) (other processes share these cores)"

# --- helpers -----------------------------------------------------------------------------
TESSERA_PID="" BASELINE_PID=""

# start_tessera LOGFILE PIN(yes|no) [VAR=value...]: starts the server, waits for readiness.
start_tessera() {
	local logfile=$1 pin=$2
	shift 2
	local prefix=()
	[[ $pin == yes ]] && prefix=("${SERVER_PIN[@]}")
	env RUST_LOG=info TESSERA_ENV=development TESSERA_CONFIG_DIR="$CONFIG_DIR" TESSERA_DATA_DIR="$DATA_DIR" \
		TESSERA_SERVER__HOST=127.0.0.1 TESSERA_SERVER__PORT="$PORT" \
		TESSERA_RATE_LIMIT__LOGIN_PER_IP_PER_MINUTE=1000000000 TESSERA_RATE_LIMIT__LOGIN_PER_IP_EMAIL_PER_MINUTE=1000000000 \
		TESSERA_RATE_LIMIT__LOGIN_PER_TENANT_PER_MINUTE=1000000000 TESSERA_RATE_LIMIT__LOGIN_STUFFING_ACCOUNTS=1000000000 "$@" \
		"${prefix[@]}" "$BIN/tessera" serve >>"$logfile" 2>&1 &
	TESSERA_PID=$!
	PIDS+=("$TESSERA_PID")
	if ! "$LOADGEN" wait --url "http://127.0.0.1:$PORT/health/ready" --timeout-s 120; then
		tail -n 30 "$logfile" >&2
		return 1
	fi
}

stop_tessera() {
	stop_pid "$TESSERA_PID"
	forget_pid "$TESSERA_PID"
	TESSERA_PID=""
}

# scenario BACKEND SYSTEM SCENARIO PORT PID [extra loadgen args...]
scenario() {
	local backend=$1 system=$2 name=$3 port=$4 pid=$5 tag=$3
	shift 5
	[[ " $* " == *" --rate "* ]] && tag="$name-open"
	"${CLIENT_PIN[@]}" "$LOADGEN" run --target "http://127.0.0.1:$port" --seed "$SEED" --scenario "$name" \
		--backend "$backend" --system "$system" --concurrency "$CONCURRENCY" --warmup-s "$WARMUP" \
		--duration-s "$DURATION" --watch "$system=$pid" --out "$RAW/$backend-$system-$tag.json" "$@"
}

# profile_read BACKEND: one more authenticated-read run with `perf record` (software clock
# sampling, so it works in VMs without hardware counters) attached to the server; the flat
# profile goes to $OUT/perf-BACKEND-read-user.txt. The run itself is not part of the report.
profile_read() {
	local backend=$1 data=$OUT/perf-$1-read-user.data seconds
	if ! command -v perf >/dev/null 2>&1; then
		log "perf not found: no profile"
		return 0
	fi
	seconds=$(awk "BEGIN { print $WARMUP + $DURATION }")
	perf record -e cpu-clock -F 999 -g -p "$TESSERA_PID" -o "$data" -- sleep "$seconds" >/dev/null 2>&1 &
	local perf_pid=$!
	PIDS+=("$perf_pid")
	"${CLIENT_PIN[@]}" "$LOADGEN" run --target "http://127.0.0.1:$PORT" --seed "$SEED" --scenario read-user \
		--backend "$backend" --system tessera --concurrency "$CONCURRENCY" --warmup-s "$WARMUP" \
		--duration-s "$DURATION" --out "$OUT/perf-$backend-read-user.json"
	wait "$perf_pid" || true
	forget_pid "$perf_pid"
	perf report -i "$data" --no-children -g none --sort dso,symbol --stdio --percent-limit 0.7 2>/dev/null |
		grep -v '^$' >"$OUT/perf-$backend-read-user.txt" || true
	log "$backend: profile in $OUT/perf-$backend-read-user.txt"
}

# A fresh data dir (SQLite file, development master key) with an empty config dir, so only the
# defaults embedded in the binary apply.
new_data_dir() {
	DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")
	TMP_DIRS+=("$DATA_DIR")
	CONFIG_DIR=$DATA_DIR/config
	mkdir -p "$CONFIG_DIR"
}

# run_backend NAME BASELINE_DATABASE_URL [VAR=value...]: the whole sequence on one database;
# the variables select that database for Tessera (none for the default SQLite file).
run_backend() {
	local backend=$1 baseline_url=$2
	shift 2
	local db_vars=("$@")
	PORT=$("$LOADGEN" free-port)
	SEED=$OUT/seed-$backend.json
	local logfile=$OUT/tessera-$backend.log
	: >"$logfile"

	# Seeding creates TENANTS x USERS password hashes: done on a server with cheap Argon2
	# (the e2e suites' parameters), unpinned. The measured server below runs the defaults;
	# the scenarios log every account they use in once first, which re-encodes its hash at
	# the default (OWASP) parameters, so each measured login costs one default verification.
	log "$backend: seeding $TENANTS x $USERS through the REST API"
	start_tessera "$logfile" no "${db_vars[@]}" TESSERA_AUTH__ARGON2_MEMORY_KIB=1024 TESSERA_AUTH__ARGON2_ITERATIONS=1
	"$LOADGEN" seed --target "http://127.0.0.1:$PORT" --tenants "$TENANTS" --users "$USERS" --out "$SEED"
	stop_tessera

	log "$backend: starting Tessera (default configuration) and the baseline"
	start_tessera "$logfile" yes "${db_vars[@]}"
	sleep 2
	"$LOADGEN" rss --pid "$TESSERA_PID" --backend "$backend" --system tessera --label idle --out "$RAW/$backend-rss-idle.json"
	"$LOADGEN" tokens --target "http://127.0.0.1:$PORT" --seed "$SEED"

	local bport
	bport=$("$LOADGEN" free-port)
	"${SERVER_PIN[@]}" "$BIN/tessera-baseline" serve --database-url "$baseline_url" --bind "127.0.0.1:$bport" \
		>>"$OUT/baseline-$backend.log" 2>&1 &
	BASELINE_PID=$!
	PIDS+=("$BASELINE_PID")
	"$LOADGEN" wait --url "http://127.0.0.1:$bport/health" --timeout-s 60
	sleep 1
	"$LOADGEN" rss --pid "$BASELINE_PID" --backend "$backend" --system baseline --label idle \
		--out "$RAW/$backend-rss-baseline-idle.json"

	log "$backend: authenticated read vs baseline"
	scenario "$backend" tessera read-user "$PORT" "$TESSERA_PID"
	scenario "$backend" baseline baseline-read "$bport" "$BASELINE_PID"
	local rate
	rate=$("$LOADGEN" rate --result "$RAW/$backend-tessera-read-user.json" --fraction 0.7)
	scenario "$backend" tessera read-user "$PORT" "$TESSERA_PID" --rate "$rate"
	if [[ ${BENCH_PERF:-0} == 1 ]]; then profile_read "$backend"; fi
	log "$backend: me, list, login, refresh"
	scenario "$backend" tessera me "$PORT" "$TESSERA_PID"
	scenario "$backend" tessera list-users "$PORT" "$TESSERA_PID"
	# The Argon2 bound of the login scenario: hash time on the server's core, taken now so that
	# it sees the same machine load as the logins that follow.
	"${SERVER_PIN[@]}" "$LOADGEN" argon2 --samples 20 --backend "$backend" --out "$RAW/$backend-argon2.json"
	scenario "$backend" tessera login "$PORT" "$TESSERA_PID"
	scenario "$backend" tessera refresh-chain "$PORT" "$TESSERA_PID"
	sleep 2
	"$LOADGEN" rss --pid "$TESSERA_PID" --backend "$backend" --system tessera --label idle-after-load \
		--out "$RAW/$backend-rss-idle-after-load.json"

	stop_pid "$BASELINE_PID"
	forget_pid "$BASELINE_PID"
	stop_tessera
}

mkdir -p "$OUT"

# --- SQLite (always): Tessera's default database, sqlite://{data_dir}/tessera.db --------------
new_data_dir
run_backend sqlite "sqlite://$DATA_DIR/tessera.db"

# --- PostgreSQL (+ Redis) when configured ----------------------------------------------------
if [[ -n $PG_ADMIN_URL ]]; then
	PG_DB=tessera_bench_$(date +%s)_$$
	PG_DATABASES+=("$PG_DB")
	mapfile -t PG_URLS < <("$BIN/tessera-baseline" pg create --admin-url "$PG_ADMIN_URL" --database "$PG_DB")
	if ((${#PG_URLS[@]} != 2)); then
		echo "could not create the PostgreSQL database $PG_DB" >&2
		exit 1
	fi
	OWNER_URL=${PG_URLS[0]} APP_URL=${PG_URLS[1]}
	pg_vars=(TESSERA_DATABASE__URL="$APP_URL" TESSERA_DATABASE__MIGRATION_URL="$OWNER_URL"
		TESSERA_DATABASE__APP_ROLE=tessera_app)
	backend=postgres
	if [[ -n $REDIS_URL ]]; then
		case $REDIS_URL in
		redis://127.* | redis://localhost* | redis://\[::1\]* | redis://*@127.* | redis://*@localhost*)
			pg_vars+=(TESSERA_REDIS__URL="$REDIS_URL")
			backend=postgres+redis
			;;
		*) log "TESSERA_TEST_REDIS_URL is not a loopback URL: running without Redis" ;;
		esac
	fi
	new_data_dir
	# The baseline reads as the owner with one plain SELECT (no transaction, no RLS set-up).
	run_backend "$backend" "$OWNER_URL" "${pg_vars[@]}"
else
	log "TESSERA_TEST_DATABASE_URL not set: PostgreSQL skipped"
fi

# --- report ------------------------------------------------------------------------------------
"$LOADGEN" report --dir "$RAW" --out "$OUT/results.json" --mode "$MODE" --server-cpus "$SERVER_CPUS" \
	--client-cpus "$CLIENT_CPUS" --server-cores "$SERVER_CORES" | tee "$OUT/summary.txt"
log "done in $(($(date +%s) - START_TIME)) s"
