#!/bin/sh
# Installs and starts one vantage point on a plain VM (systemd), as root, from the repository:
#
#   sudo sh deploy/fleet/systemd/install.sh
#
# Needs node (>= 20.19) and a built checkout in /opt/vantage (npm ci && npm run build), and
# vmagent (Debian: apt-get install victoria-metrics). Existing files in /etc/vantage are kept:
# edit /etc/vantage/vantage.env (identity, remote_write URL), then run it again or
# `systemctl restart vantage-fleet.target`. It ends by saying whether the forwarder delivers
# (check-forwarder.sh; run that again after any change).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fleet=$here/..
install -d -m 0755 /etc/vantage
for f in "$fleet/vantage.env" "$fleet/vmagent-scrape.yaml" "$fleet/prometheus-agent.yaml" "$fleet/../../config/vantage.yaml"; do
  [ -e "/etc/vantage/$(basename "$f")" ] || install -m 0644 "$f" /etc/vantage/
done
install -m 0644 "$here"/*.service "$here"/vantage-fleet.target /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now vantage-fleet.target
systemctl --no-pager status vantage.service vantage-forwarder.service || true
# The forwarder's first pushes: a wrong URL or password shows here, and nowhere centrally.
i=0
while :; do
  rc=0
  out=$(sh "$fleet/check-forwarder.sh" 2>&1) || rc=$?
  if [ "$rc" -ne 2 ] || [ "$i" -ge 12 ]; then break; fi
  i=$((i + 1))
  sleep 5
done
echo "$out"
