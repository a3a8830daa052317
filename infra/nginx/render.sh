#!/bin/sh
# render.sh <template> <output>: writes nginx.conf from infra/nginx/nginx.conf.tmpl.
# One renderer for both places nginx runs: infra/stack (local processes) calls it, and so does the
# nginx container of docker-compose.yml (POSIX sh + awk: the nginx image has no bash).
#
# Settings (environment; all required, the callers set the defaults):
#   NGINX_LISTEN                 what `listen` gets: 127.0.0.1:8080, or 8080 for every interface
#   NGINX_UPSTREAMS              API replicas, host:port separated by commas or spaces
#   NGINX_WORKER_CONNECTIONS     connections per worker (client + upstream)
#   NGINX_WORKER_RLIMIT_NOFILE   open files per worker (>= NGINX_WORKER_CONNECTIONS)
#   NGINX_UPSTREAM_KEEPALIVE     idle keep-alive connections to the replicas, per worker
#   NGINX_CLIENT_MAX_BODY_SIZE   largest request body (nginx size: 2m, 1048576, ...)
#   NGINX_ACCESS_LOG             off, on (buffered file logs/access.log) or stdout (buffered, for containers)
#   NGINX_ERROR_LOG              a path relative to the prefix, or stderr
set -eu

[ $# -eq 2 ] || { echo "usage: $0 <template> <output>" >&2; exit 2; }
tmpl=$1
out=$2

fail() { echo "render.sh: $*" >&2; exit 1; }
need_int() { # need_int NAME VALUE MIN
  case $2 in '' | *[!0-9]*) fail "$1=$2 is not a whole number" ;; esac
  [ "$2" -ge "$3" ] || fail "$1=$2 is below $3"
}

: "${NGINX_LISTEN:?}" "${NGINX_UPSTREAMS:?}" "${NGINX_WORKER_CONNECTIONS:?}" "${NGINX_WORKER_RLIMIT_NOFILE:?}"
: "${NGINX_UPSTREAM_KEEPALIVE:?}" "${NGINX_CLIENT_MAX_BODY_SIZE:?}" "${NGINX_ACCESS_LOG:?}" "${NGINX_ERROR_LOG:?}"

need_int NGINX_WORKER_CONNECTIONS "$NGINX_WORKER_CONNECTIONS" 64
need_int NGINX_WORKER_RLIMIT_NOFILE "$NGINX_WORKER_RLIMIT_NOFILE" "$NGINX_WORKER_CONNECTIONS"
need_int NGINX_UPSTREAM_KEEPALIVE "$NGINX_UPSTREAM_KEEPALIVE" 1
case $NGINX_LISTEN in
  *[!A-Za-z0-9.:\[\]-]* | '') fail "NGINX_LISTEN=$NGINX_LISTEN is not [address:]port" ;;
esac
case $NGINX_CLIENT_MAX_BODY_SIZE in
  *[!0-9kKmM]* | [!0-9]*) fail "NGINX_CLIENT_MAX_BODY_SIZE=$NGINX_CLIENT_MAX_BODY_SIZE is not an nginx size (e.g. 2m)" ;;
esac

case $NGINX_ACCESS_LOG in
  off) access_log=off ;;
  on) access_log='logs/access.log wf buffer=256k flush=5s' ;;
  stdout) access_log='/dev/stdout wf buffer=64k flush=1s' ;;
  *) fail "NGINX_ACCESS_LOG=$NGINX_ACCESS_LOG must be off, on or stdout" ;;
esac
case $NGINX_ERROR_LOG in
  stderr | [!/]*) ;;
  *) fail "NGINX_ERROR_LOG=$NGINX_ERROR_LOG must be stderr or a path relative to the nginx prefix" ;;
esac

# One `server` line per replica. max_fails/fail_timeout: a replica that refuses connections is
# skipped for 5 s (with a single entry nginx never marks it down).
servers=''
for u in $(printf '%s' "$NGINX_UPSTREAMS" | tr ',' ' '); do
  case $u in
    *:*[!0-9]* | *: | :* | *[!A-Za-z0-9.:_\[\]-]*) fail "NGINX_UPSTREAMS entry '$u' is not host:port" ;;
    *:*) ;;
    *) fail "NGINX_UPSTREAMS entry '$u' is not host:port" ;;
  esac
  servers="$servers        server $u max_fails=1 fail_timeout=5s;
"
done
[ -n "$servers" ] || fail "NGINX_UPSTREAMS is empty"

NGINX_UPSTREAM_SERVERS=${servers%
}
NGINX_ACCESS_LOG_DIRECTIVE=$access_log
export NGINX_UPSTREAM_SERVERS NGINX_ACCESS_LOG_DIRECTIVE NGINX_LISTEN NGINX_WORKER_CONNECTIONS \
  NGINX_WORKER_RLIMIT_NOFILE NGINX_UPSTREAM_KEEPALIVE NGINX_CLIENT_MAX_BODY_SIZE NGINX_ERROR_LOG

# @NAME@ -> $NAME, for NGINX_* names only. Plain string splicing, no
# regex replacement, so values may hold any character. An unknown @NAME@ is an error.
awk '
  {
    line = $0; res = ""
    while (match(line, /@[A-Z][A-Z0-9_]*@/)) {
      name = substr(line, RSTART + 1, RLENGTH - 2)
      if (!(name in ENVIRON) || name !~ /^NGINX_/) { printf "render.sh: no value for @%s@\n", name > "/dev/stderr"; exit 1 }
      res = res substr(line, 1, RSTART - 1) ENVIRON[name]
      line = substr(line, RSTART + RLENGTH)
    }
    print res line
  }
' "$tmpl" >"$out.tmp.$$" || { rm -f "$out.tmp.$$"; exit 1; }
mv -f "$out.tmp.$$" "$out"
