#!/usr/bin/env bash
# Builds the Dockerfile with a real Docker engine and runs the image the ways the chart does.
# Needs root, docker.io and debootstrap (apt). Not part of .ci/run: starting an engine and
# bootstrapping a base image takes minutes and the CI machine has no engine running.
#
# No registry is reachable here, so the base image is a stand-in built from Debian bookworm
# (debootstrap) plus this machine's Node.js, passed as NODE_IMAGE; the real build uses
# node:22-bookworm-slim. Usage: scripts/verify-image.sh   (KEEP=1 keeps the engine's data)
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/vantage-image.XXXXXX)
sock="$work/docker.sock"
export DOCKER_HOST="unix://$sock"
base=vantage-standin-node:bookworm
image=vantage:verify
cleanup() {
  docker rm -f vantage-verify vantage-icmp >/dev/null 2>&1 || true
  if [ -f "$work/dockerd.pid" ]; then
    pid=$(cat "$work/dockerd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  fi
  # The engine leaves its namespace handle mounted.
  grep -o " $work[^ ]*" /proc/mounts | sort -r | xargs -r umount -l || true
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "docker engine"
dockerd --iptables=false --ip-forward=false --bridge=none --data-root "$work/data" --exec-root "$work/exec" \
  --pidfile "$work/dockerd.pid" -H "$DOCKER_HOST" >"$work/dockerd.log" 2>&1 &
for _ in $(seq 50); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
docker version --format 'engine {{.Server.Version}}'

step "stand-in base image ($base)"
started=$(date +%s)
debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
install -m 755 "$(command -v node)" "$work/rootfs/usr/local/bin/node"
# Where the official image keeps Node's headers (the Dockerfile builds the addon against them).
mkdir -p "$work/rootfs/usr/local/include"
cp -a "$(dirname "$(dirname "$(command -v node)")")/include/node" "$work/rootfs/usr/local/include/node"
mkdir -p "$work/rootfs/usr/local/lib/node_modules"
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$work/rootfs/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
mkdir -p "$work/rootfs/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/"
# This machine reaches the npm registry through a proxy with its own CA (the host sets
# NODE_EXTRA_CA_CERTS too); the real base image needs none of this.
tar -C "$work/rootfs" -c . | docker import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$base" >/dev/null
echo "base ready in $(( $(date +%s) - started )) s ($(docker run --rm --network none "$base" node --version))"

step "docker build"
started=$(date +%s)
docker build --network host --build-arg NODE_IMAGE="$base" -t "$image" . >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; fail "docker build"; }
echo "built in $(( $(date +%s) - started )) s; image $(docker image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}') (base $(docker image inspect "$base" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"

step "vantage --version"
version=$(docker run --rm --network none "$image" --version)
[ "$version" = "$(node -p 'require("./package.json").version')" ] || fail "version: $version"
echo "$version"

# What the chart sets: the sysctl is per network namespace, so it opens ping sockets in this
# container only (Docker >= 20.10 sets the same by default).
pinggroup=(--sysctl 'net.ipv4.ping_group_range=0 2147483647')
nopriv=(--network none --cap-drop ALL --security-opt no-new-privileges)

step "runs as 65534"
user=$(docker run --rm --network none --entrypoint id "$image" -u)
[ "$user" = 65534 ] || fail "image user: $user"
echo "uid $user"

step "ping as 65534 with no capability (ping socket)"
out=$(docker run --rm "${nopriv[@]}" "${pinggroup[@]}" "$image" probe icmp 127.0.0.1 --count 3 --json)
echo "$out"
echo "$out" | grep -q '"ok":true' || fail "icmp through a ping socket"
out=$(docker run --rm "${nopriv[@]}" "${pinggroup[@]}" "$image" probe traceroute 127.0.0.1 --json)
echo "$out" | grep -q '"ok":true' || fail "traceroute through a ping socket: $out"

step "ping with a raw socket (root, only NET_RAW)"
out=$(docker run --rm --network none --cap-drop ALL --cap-add NET_RAW --user 0 "$image" probe icmp 127.0.0.1 --count 3 --json)
echo "$out"
echo "$out" | grep -q '"ok":true' || fail "icmp with NET_RAW"

step "neither allowed: one clear error naming both fixes"
out=$(docker run --rm "${nopriv[@]}" --sysctl 'net.ipv4.ping_group_range=1 0' "$image" probe icmp 127.0.0.1 --count 1 --json || true)
echo "$out"
echo "$out" | grep -q '"code":"ICMP_UNAVAILABLE"' || fail "icmp with neither"
echo "$out" | grep -q 'CAP_NET_RAW' && echo "$out" | grep -q 'ping_group_range' || fail "ICMP_UNAVAILABLE names both fixes"

step "the agent on the shipped config: 65534, no capability, read-only root, no network"
docker run -d --name vantage-verify --read-only --tmpfs /tmp "${nopriv[@]}" "${pinggroup[@]}" \
  -e VANTAGE_REGION=eu-verify -e VANTAGE_CARRIER=none "$image" >/dev/null
get='const [url, want] = process.argv.slice(1); fetch(url).then(async (r) => { const t = await r.text(); process.stdout.write(r.status + "\n" + t); process.exit(r.ok && t.includes(want) ? 0 : 1); }, () => process.exit(2));'
for _ in $(seq 50); do docker exec vantage-verify node -e "$get" http://127.0.0.1:9477/healthz "" >/dev/null 2>&1 && break; sleep 0.2; done
docker exec vantage-verify node -e "$get" http://127.0.0.1:9477/readyz "" | head -1
docker exec vantage-verify node -e "$get" http://127.0.0.1:9477/metrics 'region="eu-verify"' | grep '^vantage_checks_configured' \
  || fail "metrics with the identity from the environment"
for _ in $(seq 45); do [ "$(docker inspect vantage-verify --format '{{.State.Health.Status}}')" = healthy ] && break; sleep 1; done
echo "HEALTHCHECK: $(docker inspect vantage-verify --format '{{.State.Health.Status}}')"
[ "$(docker inspect vantage-verify --format '{{.State.Health.Status}}')" = healthy ] || fail "HEALTHCHECK not healthy"
started=$(date +%s%N)
docker stop -t 20 vantage-verify >/dev/null
code=$(docker inspect vantage-verify --format '{{.State.ExitCode}}')
echo "stopped with exit code $code in $(( ($(date +%s%N) - started) / 1000000 )) ms"
[ "$code" = 0 ] || fail "exit code $code on SIGTERM"
docker logs vantage-verify 2>&1 | grep -q '"msg":"stopped"' || fail "no clean stop in the logs"

step "the agent with an icmp check, as 65534 with no capability: the socket it chose"
# The shipped config has no icmp check, so the agent opens no ICMP socket there.
printf 'targets:\n  - {name: local, host: 127.0.0.1, checks: [{kind: icmp, count: 1}]}\n' >"$work/icmp.yaml"
chmod 644 "$work/icmp.yaml"
docker run -d --name vantage-icmp --read-only "${nopriv[@]}" "${pinggroup[@]}" -v "$work/icmp.yaml:/etc/icmp.yaml:ro" \
  "$image" run -c /etc/icmp.yaml >/dev/null
for _ in $(seq 50); do docker exec vantage-icmp node -e "$get" http://127.0.0.1:9477/metrics 'vantage_icmp_available{' \
  >/dev/null 2>&1 && break; sleep 0.2; done
docker exec vantage-icmp node -e "$get" http://127.0.0.1:9477/metrics 'socket="datagram"' | grep '^vantage_icmp_available' \
  || fail "vantage_icmp_available with socket=\"datagram\""
docker logs vantage-icmp 2>&1 | grep '"msg":"ICMP socket"' || fail "no start-up line naming the ICMP socket"
docker rm -f vantage-icmp >/dev/null

printf '\nimage verified\n'
