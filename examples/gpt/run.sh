#!/usr/bin/env bash
# The GPT example from a fresh checkout: installs and builds what is missing, then runs run.py.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${DINFER_BUILD_DIR:-$root/build}
"$root/scripts/build.sh" >&2
PYTHONPATH="$build/python" exec /usr/bin/python3 "$root/examples/gpt/run.py" "$@"
