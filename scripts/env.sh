# Sourced by scripts/serve.sh and scripts/test.sh: makes .venv hold exactly the locked
# dependencies and the project (editable). Idempotent: a second run with an unchanged
# lock file and pyproject.toml does nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TURNWISE_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.turnwise-installed"
want="$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ]; then
    echo "turnwise: creating virtual environment in $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    echo "turnwise: installing locked dependencies (requirements.lock)" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv>=0.4"
    "$VENV/bin/python" -m uv pip install --quiet --python "$VENV/bin/python" -r "$ROOT/requirements.lock"
    "$VENV/bin/python" -m uv pip install --quiet --python "$VENV/bin/python" --no-deps -e "$ROOT"
    echo "$want" > "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
cd "$ROOT"
