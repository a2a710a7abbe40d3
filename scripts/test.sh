#!/usr/bin/env bash
# Runs every test: lint, types, the Python suite, and the Node interop suite
# (official @microsoft/signalr clients against our codec and server).
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check .
mypy
python -m pytest -q "$@"
(cd interop && npm test --silent)
# The same official-client suite again on our own server (app/native).
(cd interop && INTEROP_SERVER=native npm test --silent)
