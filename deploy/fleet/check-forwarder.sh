#!/bin/sh
# Says whether this vantage point's forwarder (vmagent) delivers to the central store. Run it after
# installing and after every change of URL or credentials: a forwarder that cannot push at all
# sends nothing centrally, not even its own counters, so only the vantage point can tell.
#
#   sh deploy/fleet/check-forwarder.sh                 # vmagent's /metrics on 127.0.0.1:8429
#   sh deploy/fleet/check-forwarder.sh http://127.0.0.1:8429/metrics
#   docker compose -f deploy/fleet/compose.yaml exec vmagent wget -qO- http://127.0.0.1:8429/metrics \
#     | sh deploy/fleet/check-forwarder.sh -
#
# Counts are since vmagent started. Exit 0: delivering; 1: failing (the answers say why); 2: no
# answer from the store yet, or vmagent's /metrics unreadable.
set -eu
src=${1:-http://127.0.0.1:8429/metrics}
if [ "$src" = - ]; then
  metrics=$(cat)
elif ! metrics=$(curl -fsS --max-time 5 "$src"); then
  echo "cannot read $src: is the forwarder (vmagent) running?"
  exit 2
fi
printf '%s\n' "$metrics" | awk '
  /^vmagent_remotewrite_requests_total\{/ {
    match($0, /status_code="[^"]*"/)
    code = substr($0, RSTART + 13, RLENGTH - 14)
    if (code == "2XX") ok += $NF; else { refused[code] += $NF; refusedAll += $NF }
  }
  /^vmagent_remotewrite_errors_total\{/ { errors += $NF }
  /^vmagent_remotewrite_packets_dropped_total\{/ { dropped += $NF }
  /^vm_persistentqueue_bytes_pending\{/ { pending += $NF }
  END {
    answers = ""
    for (c in refused) if (refused[c] > 0) answers = answers " " c " x" refused[c]
    printf "delivered: %d requests; refused:%s; no answer: %d; queued on disk: %d bytes; blocks dropped: %d\n",
      ok, (answers == "" ? " none" : answers), errors, pending, dropped
    if (dropped > 0) {
      print "FAILING: the store refused blocks with 400/409 and vmagent DROPPED them. VictoriaMetrics answers 400 to a"
      print "wrong path (the URL must end in /api/v1/write) and vmauth to a wrong password or token: fix the URL or"
      print "the credentials (the forwarder log says \"rejected\"); what was dropped is lost."
      exit 1
    }
    if (refusedAll > 0 && ok == 0) {
      print "FAILING: the store refuses every request (401/403: credentials; 404: path); the data waits in the"
      print "queue and is sent once fixed (the forwarder log says \"unexpected status code\")."
      exit 1
    }
    if (ok == 0) {
      print "NOT YET: no request delivered (no answer from the store: address, port, TLS, firewall?); retry in a minute."
      exit 2
    }
    if (refusedAll > 0 || errors > 0) print "OK, with failures since the start (a past outage or fixed credentials?)."
    else print "OK"
  }'
