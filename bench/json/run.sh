#!/usr/bin/env bash
# JSON benchmark: Mote beside cJSON and simdjson (Debian packages, built here) on the shadow
# documents: instructions per byte (callgrind, the repeatable figure) and MB/s, for validate,
# early search and late search. Then Cortex-M4 flash of json*.c and the worst-case stack of
# every public JSON call. Timing figures are informative only; nothing here fails on them.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
data=${MOTE_BENCH_DATA:-$root/../shared/bench-data}
out=build/bench-json
mkdir -p "$out"

if [ ! -f "$data/shadow_4k.json" ] || [ ! -f "$data/shadow_100k.json" ]; then
    echo "json bench: documents not found in $data (../shared/bench-data); skipped"
    exit 0
fi

core=(CSources/mote/src/json*.c CSources/mote/src/error.c)
gcc -O2 -std=c11 -DNDEBUG -ICSources/mote/include bench/json/bench_mote.c "${core[@]}" \
    -o "$out/bench_mote" || exit 1
peers=(mote)
if gcc -O2 -std=c11 bench/json/bench_cjson.c -lcjson -o "$out/bench_cjson" 2>"$out/cjson.log"; then
    peers+=(cjson)
else
    echo "json bench: cJSON not available (libcjson-dev), skipped"
fi
if g++ -O2 -std=c++17 bench/json/bench_simdjson.cpp -lsimdjson -o "$out/bench_simdjson" 2>"$out/simdjson.log"; then
    peers+=(simdjson)
else
    echo "json bench: simdjson not available (libsimdjson-dev), skipped"
fi
have_cg=1
command -v valgrind >/dev/null || { have_cg=0; echo "json bench: valgrind missing: no instruction counts"; }

# instr_per_byte BIN DOC QUERIES OP SIZE
instr_per_byte() {
    local cg="$out/cg.out"
    [ $have_cg = 1 ] || { echo "-"; return; }
    valgrind --tool=callgrind --callgrind-out-file="$cg" --toggle-collect=run_op \
        "$1" "$2" "$3" 1 "$4" >/dev/null 2>&1 || { echo "-"; return; }
    local ir
    ir=$(callgrind_annotate "$cg" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1; exit}')
    awk -v ir="$ir" -v n="$5" 'BEGIN { printf "%.1f", ir / n }'
}

declare -A IPB
names=(validate early late)
for doc in shadow_4k shadow_100k; do
    json="$data/$doc.json"
    q="$data/$doc.queries"
    size=$(stat -c %s "$json")
    iters=$((400000000 / size / 10))
    echo
    echo "$doc.json ($size bytes); early: $(sed -n 1p "$q" | cut -f1); late: $(sed -n 2p "$q" | cut -f1)"
    printf '  %-10s %-9s %12s %10s\n' impl op "instr/byte" "MB/s"
    for impl in "${peers[@]}"; do
        mapfile -t speed < <("$out/bench_$impl" "$json" "$q" "$iters" | cut -f2)
        for op in 0 1 2; do
            ipb=$(instr_per_byte "$out/bench_$impl" "$json" "$q" $op "$size")
            IPB[$impl.$doc.$op]=$ipb
            printf '  %-10s %-9s %12s %10s\n' "$impl" "${names[$op]}" "$ipb" "${speed[$op]:--}"
        done
    done
    printf '  %-10s %-9s %12s\n' coreJSON validate "$([ $doc = shadow_4k ] && echo 30.3 || echo 37.2)"
    printf '  %-10s %-9s %12s\n' coreJSON late "$([ $doc = shadow_4k ] && echo 64.8 || echo 110.9)"
    printf '  %-10s %-9s %12s\n' yyjson validate "$([ $doc = shadow_4k ] && echo 9.8 || echo 12.1)"
    echo "  (coreJSON, yyjson: figures quoted in the issue, not measured here; jsmn with parent links ~25 to tokenize;"
    echo "   cJSON/simdjson include allocation and DOM building; under valgrind simdjson may pick another SIMD kernel)"
done

echo
echo "targets (mote, instructions per byte):"
check() { # label value limit
    awk -v v="$2" -v l="$3" -v t="$1" 'BEGIN { if (v == "-") { printf "  %-42s %8s  (not measured)\n", t, v; exit }
        printf "  %-42s %8.2f  limit %-6s %s\n", t, v, l, (v <= l ? "met" : "NOT MET") }'
}
for doc in shadow_4k shadow_100k; do
    v=${IPB[mote.$doc.0]}
    check "validate $doc" "$v" 10
    for op in 1 2; do
        s=${IPB[mote.$doc.$op]}
        if [ "$v" != "-" ] && [ "$s" != "-" ]; then
            check "${names[$op]} search / validate $doc" "$(awk -v a="$s" -v b="$v" 'BEGIN{printf "%.3f", a/b}')" 1.3
        fi
    done
done
check "late search shadow_100k" "${IPB[mote.shadow_100k.2]}" 15

# Number conversions: double reads beside strtod, shortest formatting beside cJSON's printf
# ("%.15g", checked with strtod, else "%.17g"); 1,024 values per set.
echo
# The -Os build runs the core's size-build code (what firmware runs: integer-only, no quick
# paths); its instruction counts are shown too.
ipv() { # BIN SET OP: instructions per value, or -
    [ $have_cg = 1 ] || { echo -; return; }
    valgrind --tool=callgrind --callgrind-out-file="$out/cgn.out" --toggle-collect=run_op \
        "$1" one "$2" "$3" >/dev/null 2>&1 || { echo -; return; }
    callgrind_annotate "$out/cgn.out" 2>/dev/null |
        awk '/PROGRAM TOTALS/ {gsub(",","",$1); printf "%.0f", $1 / 1024; exit}'
}
if gcc -O2 -std=c11 -DNDEBUG -ICSources/mote/include bench/json/bench_numbers.c "${core[@]}" -lm \
    -o "$out/bench_numbers" &&
    gcc -Os -std=c11 -DNDEBUG -ICSources/mote/include bench/json/bench_numbers.c "${core[@]}" -lm \
    -o "$out/bench_numbers_os"; then
    echo "numbers: ns per value (timing) / instructions per value (callgrind)"
    printf '  %-31s %17s %17s %17s %17s %19s\n' values "mote read" strtod "mote format" \
        "printf (cJSON)" "mote -Os read/fmt"
    mapfile -t rows < <("$out/bench_numbers" 200)
    for set in 0 1 2; do
        IFS=$'\t' read -r -a f <<< "${rows[$set]}"
        line=$(printf '  %-31s' "${f[0]}")
        for op in 0 1 2 3; do
            line+=$(printf ' %8s / %6s' "${f[$((op + 1))]}" "$(ipv "$out/bench_numbers" $set $op)")
        done
        line+=$(printf ' %9s / %7s' "$(ipv "$out/bench_numbers_os" $set 0)" \
            "$(ipv "$out/bench_numbers_os" $set 2)")
        echo "$line"
    done
fi

# Flash and stack on Cortex-M4.
echo
if command -v arm-none-eabi-gcc >/dev/null; then
    m4="$out/cm4"
    rm -rf "$m4"
    mkdir -p "$m4"
    for src in CSources/mote/src/json*.c; do
        arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -DNDEBUG -std=c11 -ffunction-sections \
            -ICSources/mote/include -fstack-usage -fcallgraph-info=su -c "$src" \
            -o "$m4/$(basename "$src" .c).o" -dumpdir "$m4/" || exit 1
    done
    echo "Cortex-M4 flash (arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -DNDEBUG), bytes of text:"
    arm-none-eabi-size "$m4"/*.o | awk 'NR > 1 { n = split($6, p, "/"); printf "  %-18s %6d\n", p[n], $1; t += $1 }
        END { printf "  %-18s %6d  (target 4000; coreJSON validate+search+iterate: 2500)\n", "all json*.c", t }'
    arm-none-eabi-size "$m4"/json_scan.o "$m4"/json_path.o | awk 'NR > 1 { t += $1 }
        END { printf "  %-18s %6d  (validate, search by path/pointer, member/element)\n", "scan+path", t }'
    arm-none-eabi-size "$m4"/json_scan.o "$m4"/json_path.o "$m4"/json_read.o | awk 'NR > 1 { t += $1 }
        END { printf "  %-18s %6d  (+ iterate, unescape, int64/bool/null reads)\n", "scan+path+read", t }'
    echo "worst-case stack per public call (bytes, -fcallgraph-info=su; target 256, coreJSON search 368):"
    python3 bench/json/stack.py "$m4"/*.ci | awk -F'\t' '{ printf "  %-30s %5d  %s\n", $1, $2, $3 }'
else
    echo "arm-none-eabi-gcc not installed: no Cortex-M4 flash/stack figures"
fi
