#!/usr/bin/env bash
# Install what is needed (idempotent) and run the whole test suite:
# lint, format check, type check, the generated-stub check, and pytest.
# Extra arguments go to pytest, e.g. scripts/test.sh -k store
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
echo "== ruff check"; ruff check .
echo "== ruff format --check"; ruff format --check .
echo "== mypy"; mypy forecasting allocation lead_routing serving dealer_group benchmarks turnwise/errors.py turnwise/solving.py scripts
echo "== pytest"; exec pytest "$@"
