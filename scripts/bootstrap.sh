#!/usr/bin/env bash
# Creates .venv and installs Auditray with its pinned stack, once per change of pyproject.toml.
# Usage: scripts/bootstrap.sh [extras]   (default extras: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-dev}"
python_bin="${AUDITRAY_PYTHON:-python3.11}"
if ! command -v "$python_bin" >/dev/null 2>&1; then
  echo "Auditray needs Python 3.11 ($python_bin not found); set AUDITRAY_PYTHON to its path." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $("$python_bin" --version)"
  "$python_bin" -m venv .venv
fi
stamp=".venv/.auditray-installed"
want="$(sha256sum pyproject.toml | cut -c1-64) $extras"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing auditray[$extras] and its pinned dependencies into .venv"
  # This machine's pip configuration names local package mirrors, some of which are empty; pip warns
  # about each of those once per package. The warnings are noise, errors still show.
  quiet_pip() { .venv/bin/python -m pip "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
  quiet_pip install --quiet --upgrade pip
  # torch==2.13.0 (CPU) is pinned in pyproject: a looser pin would pull a multi-GB CUDA build.
  quiet_pip install --quiet -e ".[$extras]"
  echo "$want" > "$stamp"
else
  echo "==> .venv is up to date"
fi
