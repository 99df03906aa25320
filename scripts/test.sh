#!/usr/bin/env bash
# Sets everything up and runs the whole test suite. With CI=true the PostgreSQL tests must run
# (they fail rather than skip when no server answers on 127.0.0.1:5432).
# Usage: scripts/test.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/bootstrap.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S=60
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
echo "==> test suite finished in $(( $(date +%s) - start ))s (install included)"
exit $status
