#!/usr/bin/env bash
# Sets everything up and runs the demo engagement end to end on the embedded default
# (local Ray, SQLite, Parquet and LanceDB under one data directory).
# Usage: scripts/demo.sh [jobs.demo options, e.g. --lines 1000000 --data-dir /tmp/auditray]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m jobs.demo "$@"
