#!/bin/sh
# Central store (b): VictoriaMetrics single-node receives every forwarder's remote_write, and
# vmalert runs the shipped rules against it, sending to Alertmanager and writing its recording
# rules and alert state back. Run from anywhere: `sh deploy/fleet/central/victoriametrics.sh`
# (both processes in the foreground; stop with Ctrl-C). Forwarders write to
# http(s)://<this host>:8428/api/v1/write; put TLS and authentication in front of it (vmauth
# ships in the same package, or a reverse proxy).
#
# Mimir, Cortex and Thanos Receive take the same remote_write; they are not tested here.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RULES=${VANTAGE_RULES:-$here/../../prometheus/vantage-rules.yaml}
DATA=${VM_DATA:-/var/lib/victoria-metrics/vantage}
ALERTMANAGER=${ALERTMANAGER_URL:-http://127.0.0.1:9093}

# -search.latencyOffset: VictoriaMetrics hides the last 30 s from queries by default; rules that
# look at "now" (the heartbeat of VantageAgentSilent) want it small.
victoria-metrics -storageDataPath="$DATA" -retentionPeriod=30d -httpListenAddr=:8428 \
  -search.latencyOffset=5s &
vm=$!
trap 'kill "$vm" 2>/dev/null' EXIT INT TERM

# The rules file is checked first: vmalert refuses to start on an invalid one anyway.
vmalert -dryRun -rule="$RULES" -loggerLevel=ERROR
vmalert -rule="$RULES" \
  -datasource.url=http://127.0.0.1:8428 \
  -remoteWrite.url=http://127.0.0.1:8428 \
  -remoteRead.url=http://127.0.0.1:8428 \
  -notifier.url="$ALERTMANAGER" \
  -evaluationInterval=1m \
  -httpListenAddr=127.0.0.1:8880
