#!/usr/bin/env bash
# Run cnnviz for a course on this machine: N replicas of the app, Redis as their shared result cache, and
# nginx in front on one port (sticky sessions, websockets). Ctrl-C or SIGTERM stops them all.
#
#   deploy/run_local.sh N        # then open http://127.0.0.1:8080
#
# Needs Debian's nginx and redis-server (apt-get install nginx redis-server) and the app's requirements.
# Settings (environment):
#   PROXY_PORT   the port students open (8080)
#   FIRST_PORT   the first replica's port; replica i listens on FIRST_PORT + i (8501)
#   REDIS_PORT   Redis's port (6390; Redis listens on 127.0.0.1 only, without persistence)
#   REDIS_MEMORY the most memory Redis keeps results in, least recently used first out (1gb)
#   RUN_DIR      where configuration, pid files and logs go (a new temporary folder)
#   CNNVIZ_*     passed to every replica (CNNVIZ_DEVICE, CNNVIZ_MAX_MODELS, CNNVIZ_HEAVY_SLOTS …)
set -euo pipefail

REPLICAS="${1:?usage: deploy/run_local.sh N   (N replicas of the app behind nginx on port \$PROXY_PORT)}"
if ! [[ "$REPLICAS" =~ ^[1-9][0-9]*$ ]] || (( REPLICAS > 64 )); then
  echo "run_local.sh: N must be a whole number from 1 to 64, not '$REPLICAS'" >&2
  exit 2
fi
PROXY_PORT="${PROXY_PORT:-8080}"
FIRST_PORT="${FIRST_PORT:-8501}"
REDIS_PORT="${REDIS_PORT:-6390}"
REDIS_MEMORY="${REDIS_MEMORY:-1gb}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN_DIR="${RUN_DIR:-$(mktemp -d -t cnnviz-course.XXXXXX)}"
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
REDIS_SERVER="$(command -v redis-server || echo /usr/bin/redis-server)"
for tool in "$NGINX" "$REDIS_SERVER"; do
  [[ -x "$tool" ]] || { echo "run_local.sh: $tool not found (apt-get install nginx redis-server)" >&2; exit 2; }
done
mkdir -p "$RUN_DIR"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
chmod -R 1777 "$RUN_DIR/tmp"  # nginx's workers drop to an unprivileged user when started as root

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping ${#pids[@]} processes" >&2
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

"$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
  --maxmemory "$REDIS_MEMORY" --maxmemory-policy allkeys-lru --dir "$RUN_DIR" \
  --logfile "$RUN_DIR/redis.log" --daemonize no &
pids+=($!)

upstreams=""
for ((i = 0; i < REPLICAS; i++)); do
  port=$((FIRST_PORT + i))
  CNNVIZ_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" python3 -m streamlit run "$ROOT/app.py" \
    --server.port "$port" --server.address 127.0.0.1 --server.headless true \
    >"$RUN_DIR/replica-$i.log" 2>&1 &
  pids+=($!)
  echo "$!" >"$RUN_DIR/replica-$i.pid"
  upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
done

sed -e "s|@PREFIX@|$RUN_DIR|g" -e "s|@PORT@|$PROXY_PORT|g" "$ROOT/deploy/nginx.conf.template" \
  | awk -v servers="$upstreams" '{ if ($0 == "@UPSTREAMS@") printf "%s", servers; else print }' \
  >"$RUN_DIR/nginx.conf"
"$NGINX" -t -q -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -g "daemon off;"
"$NGINX" -c "$RUN_DIR/nginx.conf" -p "$RUN_DIR" -g "daemon off;" &
pids+=($!)

for ((i = 0; i < REPLICAS; i++)); do
  port=$((FIRST_PORT + i))
  for _ in $(seq 240); do
    curl -sf "http://127.0.0.1:$port/_stcore/health" >/dev/null && break
    sleep 0.5
  done
done
echo "cnnviz: $REPLICAS replicas, Redis on 127.0.0.1:$REDIS_PORT, open http://127.0.0.1:$PROXY_PORT (logs in $RUN_DIR)"
# A replica that dies does not stop the others; Ctrl-C or SIGTERM stops everything.
wait
