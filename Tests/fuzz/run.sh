#!/usr/bin/env bash
# Build each Tests/fuzz/fuzz_NAME.c against the core with libFuzzer, ASan and UBSan, and run
# it for SECONDS (default 12) from its seed corpus Tests/fuzz/corpus/NAME (if any). Each target
# is built twice: at -O1 (the core's speed-build code) and at -Os (its size-build code,
# #if __OPTIMIZE_SIZE__, what firmware runs); both share one working corpus.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-12}
CLANG=/opt/swift/usr/bin/clang
command -v "$CLANG" >/dev/null || CLANG=clang
out=build/fuzz
mkdir -p "$out"
core_srcs=(CSources/mote/src/*.c)
fail=0
for src in Tests/fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  work="$out/$name.corpus"
  mkdir -p "$work"
  seeds=()
  [ -d "Tests/fuzz/corpus/${name#fuzz_}" ] && seeds+=("Tests/fuzz/corpus/${name#fuzz_}")
  # the mote tool's parts of bytes from the network (host code: POSIX, stdio)
  extra=()
  [ "$name" = fuzz_cli_format ] &&
    extra=(-D_POSIX_C_SOURCE=200809L -ICSources/mote-cli CSources/mote-cli/cli_format.c)
  dict=()
  [ -f "Tests/fuzz/${name#fuzz_}.dict" ] && dict+=("-dict=Tests/fuzz/${name#fuzz_}.dict")
  for opt in O1 Os; do
    bin="$out/$name-$opt"
    "$CLANG" -std=c11 -g -"$opt" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
      -ICSources/mote/include -ITests/fuzz "${extra[@]}" "$src" "${core_srcs[@]}" -o "$bin"
    echo "fuzz: $name (-$opt) for ${secs}s"
    if ! "$bin" -max_total_time="$secs" -max_len=4096 -timeout=5 -rss_limit_mb=1024 \
        -print_final_stats=0 "${dict[@]}" -artifact_prefix="$out/$name-$opt-" "$work" "${seeds[@]}" \
        > "$out/$name-$opt.log" 2>&1; then
      echo "fuzz: $name (-$opt) FAILED (log: $out/$name-$opt.log)" >&2
      tail -n 40 "$out/$name-$opt.log" >&2
      fail=1
    else
      grep -E '^#[0-9]+.*DONE' "$out/$name-$opt.log" | tail -n 1 || true
    fi
  done
done
exit $fail
