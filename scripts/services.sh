#!/usr/bin/env bash
# The services the test suite needs, PostgreSQL and Redis, where the tests look for them
# (BENCH_TEST_PG_URL, BENCH_TEST_REDIS_URL). One that is down on this machine is started (CI's
# machine may have them stopped); one that stays down ends this with one line naming what to
# start, exit 1. scripts/test.sh (`make test`) runs it first. BENCH_SERVICES_WAIT_S: how long a
# start may take (default 30).
set -euo pipefail

PG_URL="${BENCH_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${BENCH_TEST_REDIS_URL:-redis://127.0.0.1:6379/0}"
WAIT_S="${BENCH_SERVICES_WAIT_S:-30}"

# "host port" of a URL: scheme://[user[:password]@]host[:port][/...][?...]
host_port() {
  local rest=${1#*://}
  rest=${rest##*@}
  rest=${rest%%[/?]*}
  local host=$rest port=$2
  if [[ $rest == *:* && $rest != *"]" ]]; then
    host=${rest%:*} port=${rest##*:}
  fi
  host=${host#"["} host=${host%"]"} # [::1]
  echo "${host:-127.0.0.1} $port"
}

# Whether PostgreSQL answers at host port: its reply to an SSLRequest is one byte, S or N.
# A bare TCP connect is not enough (a proxy or another server may accept it). Bash only.
# shellcheck disable=SC2016 # $0 and $1 are the inner bash's
answers_postgres() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "\x00\x00\x00\x08\x04\xd2\x16\x2f" >&3 &&
    read -r -n1 reply <&3 && [[ $reply == [SN] ]]' "$1" "$2" 2>/dev/null
}

# Whether Redis answers PING (NOAUTH: it runs, with a password).
# shellcheck disable=SC2016
answers_redis() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "PING\r\n" >&3 &&
    read -r reply <&3 && [[ $reply == +PONG* || $reply == -NOAUTH* ]]' "$1" "$2" 2>/dev/null
}

start_postgres() {
  local cluster
  for cluster in /etc/postgresql/*/main; do # Debian's clusters, e.g. /etc/postgresql/15/main
    [[ -d $cluster ]] || continue
    cluster=${cluster%/main}
    pg_ctlcluster --skip-systemctl-redirect "${cluster##*/}" main start >/dev/null 2>&1 || true
  done
}

start_redis() {
  local dir
  dir=$(mktemp -d)
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$1" --save "" --appendonly no \
    --dir "$dir" --logfile "$dir/redis.log" >/dev/null 2>&1 || true
}

# True when service $1 answers at "host port" $2, at once or within WAIT_S of a start on this
# machine. $1: postgres or redis.
ensure() {
  local host port
  read -r host port <<<"$2"
  "answers_$1" "$host" "$port" && return 0
  [[ $host == 127.0.0.1 || $host == localhost || $host == ::1 ]] || return 1
  "start_$1" "$port"
  local deadline=$((SECONDS + WAIT_S))
  until "answers_$1" "$host" "$port"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
  echo "started $1 on $host:$port"
}

pg=$(host_port "$PG_URL" 5432) redis=$(host_port "$REDIS_URL" 6379)
down=() variables=()
ensure postgres "$pg" || { down+=("PostgreSQL at ${pg/ /:}"); variables+=(BENCH_TEST_PG_URL); }
ensure redis "$redis" || { down+=("Redis at ${redis/ /:}"); variables+=(BENCH_TEST_REDIS_URL); }
if ((${#down[@]})); then
  what=$(printf '%s and ' "${down[@]}") how=$(printf '%s / ' "${variables[@]}")
  echo "start ${what% and } before the tests (down, and starting here failed)," \
    "or point ${how% / } at a running server" >&2
  exit 1
fi
