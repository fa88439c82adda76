#!/usr/bin/env bash
# deploy/s3/start-s3.sh [STATE_DIR]
# Starts an S3-compatible server on 127.0.0.1 for trying and testing the S3A code path without an
# AWS account: the npm package s3rver (pinned below), installed on first use into the cache, its
# objects under STATE_DIR/data (kept across restarts), one bucket (S3_BUCKET, default "warehouse")
# created at start. Waits until it listens, then prints its endpoint (http://127.0.0.1:PORT) as the
# last line of standard output. Stop it with deploy/s3/stop-s3.sh STATE_DIR.
#
# s3rver's one account has the access key S3RVER and the secret key S3RVER. It needs path-style requests, plain HTTP and, from the AWS SDK that
# hadoop-aws uses, no aws-chunked uploads: deploy/README.md ("S3") lists the settings.
#
# Environment: S3_PORT (default 0 = a free one), S3_BUCKET, SPARSE_TRANSFER_CACHE (default ~/.cache/sparse-transfer).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$(mkdir -p "${1:-$ROOT/deploy/s3/work}" && cd "${1:-$ROOT/deploy/s3/work}" && pwd)"
VERSION=3.7.1
PACKAGE="${SPARSE_TRANSFER_CACHE:-$HOME/.cache/sparse-transfer}/s3rver-$VERSION"
SERVER="$PACKAGE/node_modules/s3rver/bin/s3rver.js"

if [[ -f "$STATE/s3.pid" ]] && kill -0 "$(cat "$STATE/s3.pid")" 2>/dev/null; then
  echo "start-s3: $STATE already has a running server (pid $(cat "$STATE/s3.pid")); stop it with deploy/s3/stop-s3.sh $STATE" >&2
  exit 2
fi
rm -f "$STATE/s3.pid"
command -v node >/dev/null 2>&1 || { echo "start-s3: needs Node.js and npm (Debian: apt-get install npm)" >&2; exit 2; }

if [[ ! -f "$SERVER" ]]; then
  echo "start-s3: installing s3rver $VERSION into $PACKAGE (npm) ..." >&2
  mkdir -p "$PACKAGE"
  npm install --prefix "$PACKAGE" --no-audit --no-fund --loglevel=error "s3rver@$VERSION" >&2
fi

mkdir -p "$STATE/data"
# s3rver encrypts list continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider.
NODE_OPTIONS=--openssl-legacy-provider nohup node "$SERVER" --directory "$STATE/data" --address 127.0.0.1 --port "${S3_PORT:-0}" \
  --no-vhost-buckets --configure-bucket "${S3_BUCKET:-warehouse}" > "$STATE/s3.log" 2>&1 < /dev/null &
echo $! > "$STATE/s3.pid"

# s3rver logs its address once it listens (with the port it took when S3_PORT is 0).
s3rver_endpoint() { grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$STATE/s3.log" | sed 's/.*:/http:\/\/127.0.0.1:/'; }
source "$ROOT/deploy/loopback-service.sh"
await_service start-s3 "s3rver (bucket ${S3_BUCKET:-warehouse})" "$STATE/s3.pid" "$STATE/s3.log" 30 "$ROOT/deploy/s3/stop-s3.sh" "$STATE" s3rver_endpoint
