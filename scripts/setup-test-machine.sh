#!/usr/bin/env bash
# Makes a Debian machine ready for every test suite, as `npm run test:all` and .ci/run need it:
#   - Chromium (npm run test:browser) and nginx (npm run test:proxy), from Debian's packages;
#   - Redis: redis-server from Debian's package, always installed (npm run test:cluster starts
#     private redis-servers of its own, to pause, kill and restart them), and started on
#     127.0.0.1:6379 unless something answers there already (no persistence: tests own their
#     keys, under their own prefix).
# Idempotent and quiet: when everything is there it prints nothing and takes a few
# milliseconds; otherwise one line per thing it does, and apt's output only if apt fails.
# Runs as root without sudo (CI and the project's machines); as another user it can start
# Redis but not install packages, and says so in one line.
# `npm test` needs none of this: only Node.
set -euo pipefail

readonly REDIS_HOST=127.0.0.1
readonly REDIS_PORT=6379
# Redis may take a moment to answer after it daemonizes.
readonly REDIS_WAIT_TENTHS=50

say() { echo "setup-test-machine: $*"; }

# Debian's paths; /usr/sbin is not on every user's PATH.
has_chromium() { [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; }
has_nginx() { command -v nginx > /dev/null || [ -x /usr/sbin/nginx ]; }
has_redis_server() { command -v redis-server > /dev/null || [ -x /usr/bin/redis-server ]; }

# Whether anything answers a PING on Redis's port (any reply counts: a Redis with a password
# answers -NOAUTH, and it is still not ours to replace).
redis_answers() {
  timeout 2 bash -c "exec 3<>/dev/tcp/${REDIS_HOST}/${REDIS_PORT} && printf 'PING\r\n' >&3 && read -r -t 1 reply <&3 && [ -n \"\$reply\" ]" 2> /dev/null
}

install_packages() {
  local packages=("$@")
  if [ "$(id -u)" -ne 0 ]; then
    say "missing ${packages[*]}; as root run: apt-get update && apt-get install -y ${packages[*]}"
    exit 1
  fi
  say "installing ${packages[*]} (Debian packages)"
  local log
  log=$(mktemp)
  # Keep the packages' services from starting at install: only Redis runs, and we start it.
  local policy=/usr/sbin/policy-rc.d
  local made_policy=false
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    made_policy=true
  fi
  local status=0
  {
    export DEBIAN_FRONTEND=noninteractive
    # Wait for another apt (a second session on this machine) instead of failing on its lock.
    apt-get -o DPkg::Lock::Timeout=300 update &&
      apt-get -o DPkg::Lock::Timeout=300 install -y "${packages[@]}"
  } > "$log" 2>&1 || status=$?
  if $made_policy; then rm -f "$policy"; fi
  if [ "$status" -ne 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    say "apt-get install -y ${packages[*]} failed (exit $status)"
    exit 1
  fi
  rm -f "$log"
}

start_redis() {
  say "starting redis-server on ${REDIS_HOST}:${REDIS_PORT}"
  # --bind -::1: the IPv6 loopback too, where the machine has one ("-" makes it optional).
  redis-server --daemonize yes --bind "$REDIS_HOST" -::1 --port "$REDIS_PORT" --save "" --appendonly no > /dev/null
  for _ in $(seq "$REDIS_WAIT_TENTHS"); do
    if redis_answers; then return 0; fi
    sleep 0.1
  done
  say "redis-server did not answer on ${REDIS_HOST}:${REDIS_PORT}"
  exit 1
}

main() {
  local missing=()
  has_chromium || missing+=(chromium)
  has_nginx || missing+=(nginx)
  # Even when another Redis answers on 6379: the cluster suite runs the binary itself.
  has_redis_server || missing+=(redis-server)
  if [ "${#missing[@]}" -gt 0 ]; then install_packages "${missing[@]}"; fi
  if ! redis_answers; then start_redis; fi
}

main "$@"
