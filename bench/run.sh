#!/usr/bin/env bash
# make bench: every bench/*/run.sh in turn; a failing one is reported and the rest still run.
cd "$(dirname "$0")/.."
failed=()
for script in bench/*/run.sh; do
    [ -f "$script" ] || continue
    name=$(basename "$(dirname "$script")")
    echo "===== bench: $name ====="
    if ! bash "$script"; then
        echo "===== bench: $name FAILED =====" >&2
        failed+=("$name")
    fi
    echo
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: failed: ${failed[*]}" >&2
    exit 1
fi
echo "bench: all benchmarks ran"
