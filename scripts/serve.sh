#!/usr/bin/env bash
# Install what is needed (idempotent) and start Turnwise on its embedded defaults:
# SQLite store in ./turnwise-data/, local Ray, the demo dealer group loaded on first start.
# Extra arguments go to `turnwise serve`, e.g. scripts/serve.sh --port 6000
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
exec turnwise serve "$@"
