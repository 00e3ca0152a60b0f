#!/usr/bin/env bash
# `make bootstrap`: the one virtualenv (.venv) from uv.lock, saying what it does. A first run
# builds llama-cpp-python from source for minutes; a line every 30 s says it is still at it.
set -euo pipefail
uv="$1"
if [ -d .venv ]; then
  what="checking Python packages (uv sync)"
else
  what="installing Python packages with uv (first run: about 5 minutes on 2 cores, llama-cpp-python builds from source)"
fi
start=$(date +%s)
echo "  [     0s] $what"
"$uv" sync --frozen --all-packages --quiet &
sync=$!
trap 'kill "$sync" 2>/dev/null || true' INT TERM
next=30
while kill -0 "$sync" 2>/dev/null; do
  sleep 0.2
  elapsed=$(( $(date +%s) - start ))
  if [ "$elapsed" -ge "$next" ] && kill -0 "$sync" 2>/dev/null; then
    printf '  [%6ss] still syncing Python packages\n' "$elapsed"
    next=$(( next + 30 ))
  fi
done
wait "$sync"
printf '  [%6ss] Python packages ready\n' "$(( $(date +%s) - start ))"
