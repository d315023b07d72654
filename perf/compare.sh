#!/usr/bin/env bash
# perf/compare.sh: SocketX vs nginx vs HAProxy vs the echo upstream directly,
# on loopback, one command. See perf/README.md.
#
#   perf/compare.sh              full run (≤ 10 min)
#   QUICK=1 perf/compare.sh      quick run (~3 min): shorter runs, 1k/3k held connections
#
# Environment knobs: TARGETS="direct nginx haproxy haproxy-tcp socketx",
# DURATION=15s, CONNS=200, INFLIGHT=8, SIZES="64 1024", HOLD_LOW=1000,
# HOLD_HIGH=9000, SETUP_CONNS=3000, STRENGTH=768, KEY_POOL=64 (SocketX
# setup and storm clients reuse this many pre-generated key pairs; 0 = a
# fresh pair per connection through the Go SDK), LB_CONNS=2000 LB_INFLIGHT=1
# LB_SIZE=1024 (the little-batching row; LB=0 skips it), STORM=1 (0 skips the
# storm scenario), STORM_DURATION=10s, STORM_CHUNK=3000, PIN=1 (0 skips the
# taskset runs), SYSCALLS=1 (0 skips counting system calls with perf stat),
# KEEP=1 (keep the scratch directory), OUT=perf/results.
#
# Writes $OUT/<date>[-quick].md, .svg and .jsonl. Every process it starts is
# stopped on exit (trap EXIT); every wait is bounded.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	DURATION=${DURATION:-4s}
	HOLD_HIGH=${HOLD_HIGH:-3000}
	SETUP_CONNS=${SETUP_CONNS:-1000}
	PIN_SIZES=${PIN_SIZES:-1024}
	STORM_DURATION=${STORM_DURATION:-4s}
	LB_CONNS=${LB_CONNS:-1000}
	SUFFIX=-quick
else
	DURATION=${DURATION:-15s}
	HOLD_HIGH=${HOLD_HIGH:-9000}
	SETUP_CONNS=${SETUP_CONNS:-3000}
	PIN_SIZES=${PIN_SIZES:-64 1024}
	STORM_DURATION=${STORM_DURATION:-10s}
	LB_CONNS=${LB_CONNS:-2000}
	SUFFIX=
fi
TARGETS=${TARGETS:-direct nginx haproxy haproxy-tcp socketx}
CONNS=${CONNS:-200}
INFLIGHT=${INFLIGHT:-8}
SIZES=${SIZES:-64 1024}
HOLD_LOW=${HOLD_LOW:-1000}
STRENGTH=${STRENGTH:-768}
KEY_POOL=${KEY_POOL:-64}
LB=${LB:-1}
LB_INFLIGHT=${LB_INFLIGHT:-1}
LB_SIZE=${LB_SIZE:-1024}
STORM=${STORM:-1}
STORM_CHUNK=${STORM_CHUNK:-3000}
PIN=${PIN:-1}
SYSCALLS=${SYSCALLS:-1}
OUT=${OUT:-$ROOT/perf/results}

ECHO_PORT=19001 NGINX_PORT=19002 HAPROXY_PORT=19003 SOCKETX_PORT=19004 HAPROXY_TCP_PORT=19005 ADMIN_PORT=19090
NCPU=$(nproc)
ALLCPUS=0-$((NCPU - 1))

RUN=$(mktemp -d /tmp/socketx-perf.XXXXXX)
BIN=$RUN/bin
RESULTS=$RUN/results.jsonl
: >"$RESULTS"
declare -A PIDS=() # name → pid of every long-running process we started
ECHO_PID=
TPID=
PERF_EVENTS= # comma-separated syscall tracepoints perf stat can count here; empty: none

log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

stop_pid() { # stop_pid PID [GRACE]: wait up to GRACE s (default 0) for it to exit, then TERM, wait up to 5 s, then KILL
	local pid=$1 grace=${2:-0} _
	for _ in $(seq $((grace * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local name
	for name in "${!PIDS[@]}"; do
		stop_pid "${PIDS[$name]}"
	done
	if [[ ${KEEP:-0} == 1 ]]; then
		log "scratch directory kept: $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { # wait_port PORT: up to 10 s
	local _
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	log "nothing listens on port $1"
	return 1
}

wait_file() { # wait_file PATH SECONDS PID: until PATH exists, PID exits, or timeout
	local _
	for _ in $(seq $(($2 * 10))); do
		[[ -e $1 ]] && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---- prerequisites -------------------------------------------------------
install_proxies() {
	command -v nginx >/dev/null && command -v haproxy >/dev/null && return 0
	local sudo=
	[[ $(id -u) == 0 ]] || sudo="sudo -n"
	log "installing nginx and haproxy from Debian"
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx-light haproxy >"$RUN/apt.log" 2>&1; then
		DEBIAN_FRONTEND=noninteractive $sudo apt-get update -q >>"$RUN/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx-light haproxy >>"$RUN/apt.log" 2>&1 ||
			DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q nginx haproxy >>"$RUN/apt.log" 2>&1 || true
	fi
	# Debian starts the packaged services; we run our own instances.
	$sudo systemctl stop nginx haproxy >/dev/null 2>&1 || $sudo service nginx stop >/dev/null 2>&1 || true
	$sudo service haproxy stop >/dev/null 2>&1 || true
}

install_proxies
for t in nginx haproxy; do
	if [[ " $TARGETS " == *" $t "* || ($t == haproxy && " $TARGETS " == *" haproxy-tcp "*) ]] && ! command -v "$t" >/dev/null; then
		log "$t is not installed; skipping it"
		TARGETS=$(tr ' ' '\n' <<<"$TARGETS" | grep -v "^$t\(-tcp\)\?\$" | tr '\n' ' ')
	fi
done

log "building into $BIN"
mkdir -p "$BIN"
go build -o "$BIN/echo" ./perf/echo
go build -o "$BIN/bench" ./perf/bench
go build -o "$BIN/compare" ./perf/compare
go build -o "$BIN/socketx" ./cmd/socketx

# ---- processes ---------------------------------------------------------------
start_echo() {
	"$BIN/echo" -addr "127.0.0.1:$ECHO_PORT" >"$RUN/echo.log" 2>&1 &
	ECHO_PID=$!
	PIDS[echo]=$ECHO_PID
	wait_port $ECHO_PORT
}

# start_target NAME: sets TPID (process tree to sample) and URL.
start_target() {
	case $1 in
	direct)
		TPID=$ECHO_PID
		URL=ws://127.0.0.1:$ECHO_PORT/
		return 0
		;;
	nginx)
		mkdir -p "$RUN/nginx-tmp"
		sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$NGINX_PORT#g" -e "s#@ECHO@#127.0.0.1:$ECHO_PORT#g" \
			perf/conf/nginx.conf >"$RUN/nginx.conf"
		nginx -p "$RUN" -c "$RUN/nginx.conf" >"$RUN/nginx.log" 2>&1 &
		TPID=$!
		URL=ws://127.0.0.1:$NGINX_PORT/
		wait_port $NGINX_PORT
		;;
	haproxy)
		sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$HAPROXY_PORT#g" -e "s#@ECHO@#127.0.0.1:$ECHO_PORT#g" \
			perf/conf/haproxy.cfg >"$RUN/haproxy.cfg"
		haproxy -db -f "$RUN/haproxy.cfg" >"$RUN/haproxy.log" 2>&1 &
		TPID=$!
		URL=ws://127.0.0.1:$HAPROXY_PORT/
		wait_port $HAPROXY_PORT
		;;
	haproxy-tcp)
		sed -e "s#@RUN@#$RUN#g" -e "s#@PORT@#$HAPROXY_TCP_PORT#g" -e "s#@ECHO@#127.0.0.1:$ECHO_PORT#g" \
			perf/conf/haproxy-tcp.cfg >"$RUN/haproxy-tcp.cfg"
		haproxy -db -f "$RUN/haproxy-tcp.cfg" >"$RUN/haproxy-tcp.log" 2>&1 &
		TPID=$!
		URL=ws://127.0.0.1:$HAPROXY_TCP_PORT/
		wait_port $HAPROXY_TCP_PORT
		;;
	socketx)
		DOMAIN_MAP="{\"*\":{\"upstream\":\"ws://127.0.0.1:$ECHO_PORT\",\"allowedOrigins\":[\"*\"]}}" \
			LISTEN_HOST=127.0.0.1 LISTEN_PORT=$SOCKETX_PORT ADMIN_LISTEN=127.0.0.1:$ADMIN_PORT \
			LOG_LEVEL=warn MTE_KYBER_STRENGTH=$STRENGTH \
			"$BIN/socketx" serve >"$RUN/socketx.log" 2>&1 &
		TPID=$!
		URL=ws://127.0.0.1:$SOCKETX_PORT/
		wait_port $SOCKETX_PORT
		;;
	esac
	PIDS[target]=$TPID
}

stop_target() {
	[[ $1 == direct ]] && return 0
	stop_pid "$TPID"
	unset 'PIDS[target]'
}

tree() { # tree PID: PID and its direct children (nginx workers)
	echo "$1"
	pgrep -P "$1" || true
}

pin() { # pin CPUS PID...: every thread of every process
	local cpus=$1 p
	shift
	for p in "$@"; do
		taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true
	done
}

sample() { "$BIN/compare" sample -pid "$1"; }

# ---- system calls per message (perf stat) ---------------------------------------
# perf_start CSV PID...: count PERF_EVENTS in the PIDs (and threads and children
# they start) into CSV. perf attaches with its counters disabled and enables
# them through a control FIFO, so counting starts once perf_start returns.
perf_start() {
	local csv=$1 pids
	shift
	pids=$(IFS=,; echo "$*")
	rm -f "$RUN/perf.ctl" "$RUN/perf.ack" "$csv"
	mkfifo "$RUN/perf.ctl" "$RUN/perf.ack"
	"${BENCH_PREFIX[@]}" perf stat -D -1 --control="fifo:$RUN/perf.ctl,$RUN/perf.ack" -x, -o "$csv" \
		-e "$PERF_EVENTS" -p "$pids" >>"$RUN/perf.log" 2>&1 &
	PIDS[perf]=$!
	# A bounded handshake: blocks until perf opens the FIFOs, fails if it died.
	# shellcheck disable=SC2016 # $1 and $2 are sh -c's arguments
	if ! timeout 5 sh -c 'echo enable >"$1" && head -c 4 "$2" >/dev/null' sh "$RUN/perf.ctl" "$RUN/perf.ack"; then
		log "  perf stat did not start counting (see perf.log)"
	fi
}

# perf_stop CSV: SIGINT perf (it then writes CSV), wait up to 5 s, and set
# PERF_RESULT to the counts as a JSON object, or null. Not in a $(…): the
# process and PIDS entry belong to this shell.
PERF_RESULT=null
perf_stop() {
	local csv=$1 pid=${PIDS[perf]:-}
	PERF_RESULT=null
	[[ -n $pid ]] || return 0
	kill -INT "$pid" 2>/dev/null || true
	stop_pid "$pid" 5
	unset 'PIDS[perf]'
	PERF_RESULT=$("$BIN/compare" perfstat "$csv" 2>>"$RUN/perf.log") || PERF_RESULT=null
}

probe_perf() { # sets PERF_EVENTS to the events perf stat counts here
	local ev ok=()
	[[ $SYSCALLS == 1 ]] || return 0
	if ! command -v perf >/dev/null || ! perf stat -x, -o /dev/null -e raw_syscalls:sys_enter -- true >>"$RUN/perf.log" 2>&1; then
		log "perf stat cannot count system calls here (needs linux-perf, and root or kernel.perf_event_paranoid ≤ -1): no recv/send/epoll columns"
		return 0
	fi
	for ev in syscalls:sys_enter_{read,recvfrom,readv,recvmsg,write,sendto,writev,sendmsg,epoll_wait,epoll_pwait} raw_syscalls:sys_enter; do
		if perf stat -x, -o /dev/null -e "$ev" -- true >>"$RUN/perf.log" 2>&1; then
			ok+=("$ev")
		else
			log "perf stat cannot count $ev here; it adds nothing"
		fi
	done
	PERF_EVENTS=$(IFS=,; echo "${ok[*]}")
	perf_start "$RUN/perf-probe.csv" $$
	perf_stop "$RUN/perf-probe.csv"
	if [[ $PERF_RESULT != *'"total":'[0-9]* ]]; then
		log "perf stat -p does not count here (got $PERF_RESULT; see perf.log): no recv/send/epoll columns"
		PERF_EVENTS=
	fi
}

mode_args() { # mode_args TARGET: bench flags for the target's protocol
	if [[ $1 == socketx ]]; then echo "-strength $STRENGTH"; else echo "-plain"; fi
}

pool_args() { # pool_args TARGET: the key-pool client's flag for SocketX setup storms
	if [[ $1 == socketx && $KEY_POOL -gt 0 ]]; then echo "-key-pool $KEY_POOL"; fi
}

BENCH_PREFIX=() # e.g. (taskset -c 1)

bench() { # bench NAME TARGET ARGS...: bounded bench run, JSON to $RUN/NAME.json
	local name=$1 target=$2
	shift 2
	# shellcheck disable=SC2046
	timeout 600 "${BENCH_PREFIX[@]}" "$BIN/bench" -q $(mode_args "$target") -json "$RUN/$name.json" "$@" "$URL" >>"$RUN/bench.log" 2>&1 || true
	if [[ ! -s $RUN/$name.json ]]; then
		log "bench $name produced no result (see bench.log)"
		echo null
		return
	fi
	cat "$RUN/$name.json"
}

# ---- scenarios -----------------------------------------------------------------
throughput() { # throughput TARGET SIZE PINNED [CONNS INFLIGHT]
	local t=$1 size=$2 pinned=$3 conns=${4:-$CONNS} inflight=${5:-$INFLIGHT} before after res sc=null
	local name=tp-$t-$size-$pinned-$conns-$inflight
	BENCH_PREFIX=()
	if [[ $pinned == true ]]; then
		# shellcheck disable=SC2046
		pin 0 $(tree "$TPID")
		pin 1 "$ECHO_PID"
		BENCH_PREFIX=(taskset -c 1)
	fi
	before=$(sample "$TPID")
	if [[ -n $PERF_EVENTS ]]; then
		# shellcheck disable=SC2046
		perf_start "$RUN/perf-$name.csv" $(tree "$TPID")
	fi
	res=$(bench "$name" "$t" -a "$conns" -inflight "$inflight" -s "$size" -d "$DURATION")
	if [[ -n $PERF_EVENTS ]]; then
		perf_stop "$RUN/perf-$name.csv"
		sc=$PERF_RESULT
	fi
	after=$(sample "$TPID")
	BENCH_PREFIX=()
	if [[ $pinned == true ]]; then
		# shellcheck disable=SC2046
		pin "$ALLCPUS" $(tree "$TPID") "$ECHO_PID"
	fi
	printf '{"kind":"throughput","target":"%s","size":%d,"pinned":%s,"before":%s,"after":%s,"bench":%s,"syscalls":%s}\n' \
		"$t" "$size" "$pinned" "$before" "$after" "$res" "$sc" >>"$RESULTS"
	log "  $t ${size}B ${conns}×$inflight pinned=$pinned: $(jq_msgs "$res")syscalls $sc"
}

jq_msgs() { # a one-line summary without jq
	grep -o '"msgs_per_sec":[0-9.e+]*\|"setup_rate":[0-9.e+]*\|"established":[0-9]*' <<<"$1" | tr '\n' ' '
}

setup_rate() { # setup_rate TARGET
	local t=$1 before after res
	before=$(sample "$TPID")
	# shellcheck disable=SC2046
	res=$(bench "setup-$t" "$t" -hold -d 0 -a "$SETUP_CONNS" -p 64 -w 2 $(pool_args "$t"))
	after=$(sample "$TPID")
	printf '{"kind":"setup","target":"%s","before":%s,"after":%s,"bench":%s}\n' "$t" "$before" "$after" "$res" >>"$RESULTS"
	log "  $t setup: $(jq_msgs "$res")"
}

storm() { # storm TARGET: relay p99 alone, then during a storm of new clients
	local t=$1 base res before after rpid chunks=() n=0 t0 t1 s
	base=$(bench "storm-base-$t" "$t" -a "$CONNS" -inflight "$INFLIGHT" -s 1024 -d "$STORM_DURATION")
	rm -f "$RUN/storm.ready"
	before=$(sample "$TPID")
	# shellcheck disable=SC2046
	timeout 600 "$BIN/bench" -q $(mode_args "$t") -a "$CONNS" -inflight "$INFLIGHT" -s 1024 -d "$STORM_DURATION" \
		-ready-file "$RUN/storm.ready" -json "$RUN/storm-relay-$t.json" "$URL" >>"$RUN/bench.log" 2>&1 &
	rpid=$!
	PIDS[storm-relay]=$rpid
	wait_file "$RUN/storm.ready" 60 $rpid || log "  $t: storm relay not ready"
	t0=$(date +%s.%N)
	# New clients as fast as 64 setups in flight from 2 bench processes allow,
	# each sending one 64 B message and closing, in chunks until the relay run ends.
	while kill -0 "$rpid" 2>/dev/null && ((n < 200)); do
		n=$((n + 1))
		# shellcheck disable=SC2046
		timeout 120 "$BIN/bench" -q $(mode_args "$t") $(pool_args "$t") -a "$STORM_CHUNK" -m 1 -s 64 -d 0 -p 64 -w 2 \
			-json "$RUN/storm-$t-$n.json" "$URL" >>"$RUN/bench.log" 2>&1 || true
		[[ -s $RUN/storm-$t-$n.json ]] && chunks+=("$(cat "$RUN/storm-$t-$n.json")")
	done
	t1=$(date +%s.%N)
	stop_pid "$rpid" 30
	unset 'PIDS[storm-relay]'
	after=$(sample "$TPID")
	res=$(cat "$RUN/storm-relay-$t.json" 2>/dev/null || echo null)
	s=$(IFS=,; echo "${chunks[*]}")
	printf '{"kind":"storm","target":"%s","before":%s,"after":%s,"baseline":%s,"bench":%s,"storm":[%s],"storm_secs":%s}\n' \
		"$t" "$before" "$after" "$base" "$res" "$s" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')" >>"$RESULTS"
	log "  $t storm: ${#chunks[@]} chunks of $STORM_CHUNK; relay $(grep -o '"rtt_p99_us":[0-9.e+]*' <<<"$res") without $(grep -o '"rtt_p99_us":[0-9.e+]*' <<<"$base")"
}

hold() { # hold TARGET: fresh proxy, sample before, at HOLD_LOW and at HOLD_HIGH held pairs
	local t=$1 base low high blow bhigh lpid hpid
	rm -f "$RUN/low.ready" "$RUN/high.ready"
	sleep 1
	base=$(sample "$TPID")
	# shellcheck disable=SC2046
	"$BIN/bench" -q -hold -d 300s -a "$HOLD_LOW" -p 64 $(mode_args "$t") \
		-ready-file "$RUN/low.ready" -json "$RUN/hold-low-$t.json" "$URL" >>"$RUN/bench.log" 2>&1 &
	lpid=$!
	PIDS[hold-low]=$lpid
	wait_file "$RUN/low.ready" 120 $lpid || log "  $t: low hold not ready"
	sleep 2
	low=$(sample "$TPID")
	# shellcheck disable=SC2046
	"$BIN/bench" -q -hold -d 300s -a $((HOLD_HIGH - HOLD_LOW)) -p 64 -w 2 $(mode_args "$t") \
		-ready-file "$RUN/high.ready" -json "$RUN/hold-high-$t.json" "$URL" >>"$RUN/bench.log" 2>&1 &
	hpid=$!
	PIDS[hold-high]=$hpid
	wait_file "$RUN/high.ready" 240 $hpid || log "  $t: high hold not ready"
	sleep 2
	high=$(sample "$TPID")
	stop_pid $hpid
	stop_pid $lpid
	unset 'PIDS[hold-low]' 'PIDS[hold-high]'
	blow=$(cat "$RUN/hold-low-$t.json" 2>/dev/null || echo null)
	bhigh=$(cat "$RUN/hold-high-$t.json" 2>/dev/null || echo null)
	printf '{"kind":"hold","target":"%s","base":%s,"low":%s,"high":%s,"low_conns":%d,"high_conns":%d,"bench_low":%s,"bench_high":%s}\n' \
		"$t" "$base" "$low" "$high" "$HOLD_LOW" "$HOLD_HIGH" "$blow" "$bhigh" >>"$RESULTS"
	log "  $t hold: base $(grep -o '"rss_kib":[0-9]*' <<<"$base") low $(grep -o '"rss_kib":[0-9]*' <<<"$low") high $(grep -o '"rss_kib":[0-9]*' <<<"$high")"
}

# ---- run -------------------------------------------------------------------------
log "targets: $TARGETS; duration $DURATION; $CONNS conns × $INFLIGHT in flight; sizes $SIZES; little batching $LB_CONNS × $LB_INFLIGHT (LB=$LB); hold $HOLD_LOW→$HOLD_HIGH; setup $SETUP_CONNS (key pool $KEY_POOL); storm $STORM_DURATION (STORM=$STORM); ML-KEM-$STRENGTH"
probe_perf
start_echo
for t in $TARGETS; do
	log "$t"
	start_target "$t"
	for size in $SIZES; do
		throughput "$t" "$size" false
	done
	if [[ $LB == 1 ]]; then
		throughput "$t" "$LB_SIZE" false "$LB_CONNS" "$LB_INFLIGHT"
	fi
	if [[ $PIN == 1 && $NCPU -ge 2 && $t != direct ]]; then
		for size in $PIN_SIZES; do
			throughput "$t" "$size" true
		done
	fi
	setup_rate "$t"
	if [[ $STORM == 1 && $t != direct && $t != haproxy-tcp ]]; then
		storm "$t"
	fi
	if [[ $t != direct && $t != haproxy-tcp ]]; then
		stop_target "$t"
		start_target "$t" # fresh process: a clean memory baseline
		hold "$t"
	fi
	stop_target "$t"
done

mkdir -p "$OUT"
STAMP=$(date -u +%Y-%m-%d)$SUFFIX
VERSIONS="$("$BIN/socketx" version 2>&1 | head -1); $(nginx -v 2>&1 | head -1); $(haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3); $(go version | cut -d' ' -f3-4)"
PARAMS="$CONNS connections × $INFLIGHT in flight for $DURATION per run, sizes $SIZES B (binary), little batching $LB_CONNS × $LB_INFLIGHT at $LB_SIZE B (LB=$LB), pinned runs: proxy on CPU 0 and bench+echo on CPU 1 for sizes $PIN_SIZES; hold $HOLD_LOW then $HOLD_HIGH idle pairs; setup $SETUP_CONNS connections, 64 setups in flight, 2 bench processes, SocketX clients reuse $KEY_POOL pre-generated key pairs (KEY_POOL; the proxy's work is unchanged); storm: $CONNS × $INFLIGHT relaying 1024 B for $STORM_DURATION while chunks of $STORM_CHUNK new clients (64 in flight, 2 bench processes, one 64 B echo each) connect (STORM=$STORM); SocketX MTE_KYBER_STRENGTH=$STRENGTH, LOG_LEVEL=warn; QUICK=$QUICK"
cp "$RESULTS" "$OUT/$STAMP.jsonl"
"$BIN/compare" report -in "$RESULTS" -md "$OUT/$STAMP.md" -svg "$OUT/$STAMP.svg" -params "$PARAMS" -versions "$VERSIONS"
log "wrote $OUT/$STAMP.md and $OUT/$STAMP.svg"
