#!/usr/bin/env bash
# Build each Tests/fuzz/fuzz_NAME.c against the core with libFuzzer, ASan and UBSan, and run
# it for SECONDS (default 15) from its seed corpus Tests/fuzz/corpus/NAME (if any).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
CLANG=/opt/swift/usr/bin/clang
command -v "$CLANG" >/dev/null || CLANG=clang
out=build/fuzz
mkdir -p "$out"
core_srcs=(CSources/mote/src/*.c)
fail=0
for src in Tests/fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  bin="$out/$name"
  "$CLANG" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -ICSources/mote/include -ITests/fuzz "$src" "${core_srcs[@]}" -o "$bin"
  work="$out/$name.corpus"
  mkdir -p "$work"
  seeds=()
  [ -d "Tests/fuzz/corpus/${name#fuzz_}" ] && seeds+=("Tests/fuzz/corpus/${name#fuzz_}")
  dict=()
  [ -f "Tests/fuzz/${name#fuzz_}.dict" ] && dict+=("-dict=Tests/fuzz/${name#fuzz_}.dict")
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=1024 \
      -print_final_stats=0 "${dict[@]}" -artifact_prefix="$out/$name-" "$work" "${seeds[@]}" \
      > "$out/$name.log" 2>&1; then
    echo "fuzz: $name FAILED (log: $out/$name.log)" >&2
    tail -n 40 "$out/$name.log" >&2
    fail=1
  else
    grep -E '^#[0-9]+.*DONE' "$out/$name.log" | tail -n 1 || true
  fi
done
exit $fail
