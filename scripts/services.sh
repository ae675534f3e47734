#!/usr/bin/env bash
# Local services for development and tests: a private PostgreSQL 15 + PostGIS 3
# cluster and a MinIO server, without Docker.
#
#   scripts/services.sh up      install (first time) and start both; reuse what exists
#   scripts/services.sh down    stop both (data is kept)
#   scripts/services.sh status  tell whether each is running
#   scripts/services.sh env     print eval-able `export` lines for the app's variables
#
# Works on a fresh Debian machine that has Go, as root or as a user with sudo.
# The second `up` reuses the cluster, the MinIO binary and the running servers.
#
# Settings (environment):
#   FIELDSVC_DATA_DIR            state folder (default /var/lib/fieldsvc as root,
#                                else ${XDG_STATE_HOME:-$HOME/.local/state}/fieldsvc)
#   FIELDSVC_PG_PORT             default 55432
#   FIELDSVC_MINIO_PORT          default 59000
#   FIELDSVC_MINIO_CONSOLE_PORT  default 59001
#   DATABASE_URL                 set (to another server): Postgres is not provisioned
#   S3_ENDPOINT                  set (to another server): MinIO is not provisioned
set -euo pipefail

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
POSTGIS_CONTROL=/usr/share/postgresql/$PG_MAJOR/extension/postgis.control
PG_PORT=${FIELDSVC_PG_PORT:-55432}
PG_USER=fieldsvc
PG_PASSWORD=fieldsvc
PG_DB=fieldsvc

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_PORT=${FIELDSVC_MINIO_PORT:-59000}
MINIO_CONSOLE_PORT=${FIELDSVC_MINIO_CONSOLE_PORT:-59001}
MINIO_USER=fieldsvc
MINIO_PASSWORD=fieldsvc-secret
MINIO_BUCKET=fieldsvc

# CI may run without HOME; go and the cache folder need it.
HOME=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME

if [[ $(id -u) -eq 0 ]]; then
	IS_ROOT=1
	DATA_DIR=${FIELDSVC_DATA_DIR:-/var/lib/fieldsvc}
else
	IS_ROOT=0
	DATA_DIR=${FIELDSVC_DATA_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/fieldsvc}
fi
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/fieldsvc
MINIO_BIN=$CACHE_DIR/minio-$MINIO_VERSION/minio

PG_DATA=$DATA_DIR/pg
PG_RUN=$DATA_DIR/run # unix socket directory (not /var/run/postgresql)
PG_LOG=$DATA_DIR/postgres.log
MINIO_DATA=$DATA_DIR/minio
MINIO_LOG=$DATA_DIR/minio.log
MINIO_PID=$DATA_DIR/minio.pid
JWT_FILE=$DATA_DIR/jwt-secret

OUR_DATABASE_URL="postgres://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB?sslmode=disable"
OUR_S3_ENDPOINT="127.0.0.1:$MINIO_PORT"

export PATH="$PATH:/usr/local/go/bin"

log() { printf 'services: %s\n' "$*" >&2; }
die() {
	printf 'services: ERROR: %s\n' "$*" >&2
	exit 1
}

# as_root CMD...: run CMD as root (directly, or through sudo).
as_root() {
	if [[ $IS_ROOT == 1 ]]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root for: $* (run as root or install sudo)"
	fi
}

apt_install() {
	log "installing with apt: $* ..."
	as_root apt-get update -qq >&2 || die "apt-get update failed"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 ||
		die "apt-get install $* failed"
}

# Locale for the cluster: C.UTF-8 where glibc has it (Debian 12 always does), else C.
pg_locale() {
	if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		echo C.UTF-8
	else
		echo C
	fi
}

# as_pg CMD...: run a Postgres server tool as the cluster owner. initdb and
# pg_ctl refuse to run as root, so as root that is the `postgres` OS user.
# Runs from / because the owner may not be able to enter the current directory.
as_pg() {
	local loc
	loc=$(pg_locale)
	if [[ $IS_ROOT == 1 ]]; then
		(cd / && runuser -u postgres -- env LC_ALL="$loc" LANG="$loc" "$@")
	else
		(cd / && env LC_ALL="$loc" LANG="$loc" "$@")
	fi
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	# shellcheck disable=SC2016 # $1 expands in the inner shell
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# sq STRING: STRING quoted for a shell or postgresql.conf single-quoted literal.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
conf_q() { printf "'%s'" "${1//\'/\'\'}"; }

# A DATABASE_URL / S3_ENDPOINT equal to ours (e.g. from an earlier `eval "$(... env)"`)
# still means "our services", so `up` keeps provisioning them.
pg_external() { [[ -n ${DATABASE_URL:-} && $DATABASE_URL != "$OUR_DATABASE_URL" ]]; }
minio_external() { [[ -n ${S3_ENDPOINT:-} && $S3_ENDPOINT != "$OUR_S3_ENDPOINT" ]]; }

ensure_data_dir() {
	mkdir -p "$DATA_DIR"
	chmod 755 "$DATA_DIR" # the postgres user must be able to enter it
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() {
	[[ -f $PG_DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# Port the running postmaster listens on (line 4 of postmaster.pid).
pg_running_port() {
	sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

pg_install() {
	if [[ -x $PG_BIN/postgres && -f $POSTGIS_CONTROL ]]; then
		return
	fi
	# The Debian package also creates and starts a default cluster on 5432;
	# we leave it alone and never use it.
	apt_install "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3"
	[[ -x $PG_BIN/postgres && -f $POSTGIS_CONTROL ]] ||
		die "PostgreSQL $PG_MAJOR / PostGIS 3 still missing after apt-get install"
}

pg_init() {
	if [[ -f $PG_DATA/PG_VERSION ]]; then
		local v
		v=$(cat "$PG_DATA/PG_VERSION")
		[[ $v == "$PG_MAJOR" ]] || die "$PG_DATA holds a PostgreSQL $v cluster, expected $PG_MAJOR"
		return
	fi
	if [[ $IS_ROOT == 1 ]]; then
		as_pg test -x "$DATA_DIR" ||
			die "the postgres user cannot enter $DATA_DIR (a parent folder is not traversable); set FIELDSVC_DATA_DIR elsewhere"
	fi
	local loc tmp pwfile
	loc=$(pg_locale)
	tmp=$DATA_DIR/pg.init
	rm -rf "$tmp"
	mkdir -m 700 "$tmp"
	pwfile=$(mktemp "$DATA_DIR/pwfile.XXXXXX")
	printf '%s\n' "$PG_PASSWORD" >"$pwfile"
	if [[ $IS_ROOT == 1 ]]; then
		chown postgres: "$tmp" "$pwfile"
	fi
	log "creating PostgreSQL $PG_MAJOR cluster in $PG_DATA (locale $loc)"
	if ! as_pg "$PG_BIN/initdb" -D "$tmp" --username="$PG_USER" --auth=scram-sha-256 \
		--pwfile="$pwfile" --encoding=UTF8 --locale="$loc" >"$DATA_DIR/initdb.log" 2>&1; then
		rm -f "$pwfile"
		tail -n 20 "$DATA_DIR/initdb.log" >&2
		die "initdb failed (full log: $DATA_DIR/initdb.log)"
	fi
	rm -f "$pwfile"
	# Our settings live in fieldsvc.conf, rewritten by every `up`.
	printf "\ninclude_if_exists = 'fieldsvc.conf'\n" >>"$tmp/postgresql.conf"
	mv "$tmp" "$PG_DATA" # only a complete cluster ever appears at $PG_DATA
}

pg_configure() {
	mkdir -p "$PG_RUN"
	touch "$PG_LOG"
	chmod 644 "$PG_LOG"
	if [[ $IS_ROOT == 1 ]]; then
		chown postgres: "$PG_RUN" "$PG_LOG"
	fi
	local conf=$PG_DATA/fieldsvc.conf new
	new=$(
		cat <<EOF
# Written by scripts/services.sh on every 'up'; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = $(conf_q "$PG_RUN")
max_connections = 200
# Dev/test cluster only: trade crash safety for speed. A crash of the machine
# may corrupt this cluster; never use these settings for data you care about.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
	)
	if [[ ! -f $conf || $(cat "$conf") != "$new" ]]; then
		printf '%s\n' "$new" >"$conf"
		if [[ $IS_ROOT == 1 ]]; then
			chown postgres: "$conf"
		fi
	fi
}

pg_wait_ready() {
	local i
	for ((i = 0; i < 60; i++)); do
		if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then
			return
		fi
		sleep 1
	done
	tail -n 20 "$PG_LOG" >&2 || true
	die "PostgreSQL on 127.0.0.1:$PG_PORT did not become ready (log: $PG_LOG)"
}

pg_psql() {
	PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=10 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
		-h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" "$@"
}

pg_up() {
	if pg_external; then
		log "postgres: DATABASE_URL is set, using that server (not provisioning)"
		return
	fi
	pg_install
	ensure_data_dir
	pg_init
	if pg_running; then
		local running_port
		running_port=$(pg_running_port)
		if [[ -n $running_port && $running_port != "$PG_PORT" ]]; then
			die "our cluster ($PG_DATA) is running on port $running_port, not $PG_PORT; run '$0 down' first"
		fi
		pg_configure
		log "postgres: already running on 127.0.0.1:$PG_PORT"
	else
		if port_open "$PG_PORT"; then
			die "port 127.0.0.1:$PG_PORT is taken by something that is not our cluster ($PG_DATA); stop it or set FIELDSVC_PG_PORT"
		fi
		pg_configure
		log "postgres: starting on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
		# pg_ctl detaches the postmaster into its own session; fd 9 is the `up` lock.
		if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 -s start 9>&-; then
			tail -n 20 "$PG_LOG" >&2 || true
			die "PostgreSQL failed to start (log: $PG_LOG)"
		fi
	fi
	pg_wait_ready
	local have
	have=$(pg_psql -d postgres -tAc "select 1 from pg_database where datname = '$PG_DB'") ||
		die "cannot connect to our cluster on 127.0.0.1:$PG_PORT as $PG_USER"
	if [[ $have != 1 ]]; then
		log "postgres: creating database $PG_DB"
		pg_psql -d postgres -c "create database $PG_DB" >/dev/null
	fi
}

pg_down() {
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		log "postgres: no cluster at $PG_DATA"
		return
	fi
	if pg_running; then
		log "postgres: stopping"
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 60 -s stop
	else
		log "postgres: not running"
	fi
}

pg_status() {
	if pg_external; then
		echo "postgres: external (DATABASE_URL is set)"
	elif [[ ! -f $PG_DATA/PG_VERSION ]]; then
		echo "postgres: not set up (no cluster at $PG_DATA)"
	elif pg_running; then
		echo "postgres: running on 127.0.0.1:$(pg_running_port) (data $PG_DATA)"
	else
		echo "postgres: stopped (data $PG_DATA)"
	fi
}

# --------------------------------------------------------------------- MinIO

minio_build() {
	if [[ -x $MINIO_BIN ]]; then
		return
	fi
	command -v go >/dev/null 2>&1 || die "go is not on PATH; it is needed to build MinIO"
	mkdir -p "$CACHE_DIR"
	local tmp buildlog=$CACHE_DIR/minio-build.log
	tmp=$(mktemp -d "$CACHE_DIR/minio-build.XXXXXX")
	log "minio: building $MINIO_VERSION with go install, one time only: takes ~5 minutes cold (log: $buildlog)"
	if ! GOBIN=$tmp CGO_ENABLED=0 GOFLAGS='' go install "github.com/minio/minio@$MINIO_VERSION" >"$buildlog" 2>&1; then
		rm -rf "$tmp"
		tail -n 30 "$buildlog" >&2
		die "building MinIO failed (log: $buildlog)"
	fi
	mkdir -p "$(dirname "$MINIO_BIN")"
	mv "$tmp/minio" "$MINIO_BIN" # appears only when complete
	rm -rf "$tmp"
	log "minio: built $MINIO_BIN"
}

# PID of our MinIO from the pid file, if that process is alive and is minio.
minio_pid() {
	local pid
	[[ -f $MINIO_PID ]] || return 1
	pid=$(cat "$MINIO_PID")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'minio server' || return 1
	echo "$pid"
}

minio_healthy() {
	curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$MINIO_PORT/minio/health/ready" 2>/dev/null
}

minio_wait_ready() {
	local pid=$1 i
	for ((i = 0; i < 120; i++)); do
		if minio_healthy; then
			return
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.5
	done
	tail -n 20 "$MINIO_LOG" >&2 || true
	die "MinIO did not become ready on 127.0.0.1:$MINIO_PORT (log: $MINIO_LOG)"
}

minio_ensure_bucket() {
	local url="http://127.0.0.1:$MINIO_PORT/$MINIO_BUCKET" code
	# SigV4 needs the payload hash; this is the SHA-256 of an empty body.
	local -a s3=(--aws-sigv4 "aws:amz:us-east-1:s3" -u "$MINIO_USER:$MINIO_PASSWORD"
		-H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -I "${s3[@]}" "$url") || code=000
	case $code in
	200) ;;
	404)
		log "minio: creating bucket $MINIO_BUCKET"
		curl -fsS -o /dev/null --max-time 10 -X PUT "${s3[@]}" "$url" ||
			die "could not create bucket $MINIO_BUCKET"
		;;
	*) die "checking bucket $MINIO_BUCKET failed (HTTP $code)" ;;
	esac
}

minio_up() {
	if minio_external; then
		log "minio: S3_ENDPOINT is set, using that server (not provisioning)"
		return
	fi
	command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
	minio_build
	ensure_data_dir
	local pid
	if pid=$(minio_pid); then
		if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--address 127.0.0.1:$MINIO_PORT "; then
			die "our MinIO (pid $pid) is not listening on port $MINIO_PORT; run '$0 down' first"
		fi
		minio_wait_ready "$pid"
		log "minio: already running on 127.0.0.1:$MINIO_PORT (pid $pid)"
	else
		local p
		for p in "$MINIO_PORT" "$MINIO_CONSOLE_PORT"; do
			if port_open "$p"; then
				die "port 127.0.0.1:$p is taken by something that is not our MinIO; stop it or set FIELDSVC_MINIO_PORT / FIELDSVC_MINIO_CONSOLE_PORT"
			fi
		done
		mkdir -p "$MINIO_DATA"
		rm -f "$MINIO_PID"
		log "minio: starting on 127.0.0.1:$MINIO_PORT (log: $MINIO_LOG)"
		# setsid: own session, so it outlives this script, make and their process
		# group; the inner shell writes its own pid and then becomes minio.
		# shellcheck disable=SC2016 # $$ and $1 expand in the inner shell
		MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_UPDATE=off \
			setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$MINIO_PID" \
			"$MINIO_BIN" server "$MINIO_DATA" \
			--address "127.0.0.1:$MINIO_PORT" --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" \
			</dev/null >>"$MINIO_LOG" 2>&1 9>&- &
		local i
		for ((i = 0; i < 50; i++)); do
			[[ -s $MINIO_PID ]] && break
			sleep 0.1
		done
		pid=$(cat "$MINIO_PID" 2>/dev/null) || die "MinIO did not start (log: $MINIO_LOG)"
		minio_wait_ready "$pid"
	fi
	minio_ensure_bucket
}

minio_down() {
	local pid i
	if ! pid=$(minio_pid); then
		log "minio: not running"
		rm -f "$MINIO_PID"
		return
	fi
	log "minio: stopping (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "minio: still running after 10s, killing"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$MINIO_PID"
}

minio_status() {
	local pid
	if minio_external; then
		echo "minio: external (S3_ENDPOINT is set)"
	elif pid=$(minio_pid); then
		if minio_healthy; then
			echo "minio: running on 127.0.0.1:$MINIO_PORT (pid $pid, data $MINIO_DATA)"
		else
			echo "minio: process $pid is up but not ready on 127.0.0.1:$MINIO_PORT"
		fi
	else
		echo "minio: stopped"
	fi
}

# ----------------------------------------------------------------------- env

jwt_secret() {
	if [[ ! -s $JWT_FILE ]]; then
		ensure_data_dir
		(
			umask 077
			head -c 48 /dev/urandom | base64 -w0 >"$JWT_FILE.tmp"
		)
		mv "$JWT_FILE.tmp" "$JWT_FILE"
	fi
	cat "$JWT_FILE"
}

print_env() {
	emit() {
		if [[ -z ${!1:-} ]]; then
			printf 'export %s=%s\n' "$1" "$(sq "$2")"
		fi
	}
	local out jwt
	jwt=$(jwt_secret)
	out=$(
		emit DATABASE_URL "$OUR_DATABASE_URL"
		emit S3_ENDPOINT "$OUR_S3_ENDPOINT"
		emit S3_ACCESS_KEY "$MINIO_USER"
		emit S3_SECRET_KEY "$MINIO_PASSWORD"
		emit S3_BUCKET "$MINIO_BUCKET"
		emit S3_USE_SSL false
		emit JWT_SECRET "$jwt"
	)
	[[ -z $out ]] || printf '%s\n' "$out"
}

# ---------------------------------------------------------------------- main

usage() {
	echo "usage: $0 up|down|status|env" >&2
	exit 2
}

[[ $# -eq 1 ]] || usage
case $1 in
up)
	ensure_data_dir
	# One `up` at a time (e.g. parallel make targets); children must not inherit fd 9.
	exec 9>"$DATA_DIR/up.lock"
	flock 9
	pg_up
	minio_up
	log "ready"
	;;
down)
	pg_down
	minio_down
	;;
status)
	pg_status
	minio_status
	;;
env) print_env ;;
*) usage ;;
esac
