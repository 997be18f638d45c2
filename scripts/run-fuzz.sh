#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time
# (FUZZ_SECONDS, default 60) from a seed corpus. Exit status 0 means no crash was found.
# Never runs unbounded: -max_total_time always applies.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DUET_FUZZ_DIR:-$PWD/build-fuzz}
seconds=${FUZZ_SECONDS:-60}
mkdir -p "$out/corpus-gguf" "$out/gen/core"
sed 's/@PROJECT_VERSION@/fuzz/' src/core/version.hpp.in > "$out/gen/core/version.hpp"
cxx=$(command -v clang++ || command -v clang++-14)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -Isrc -I"$out/gen" -DDUET_SOURCE_DIR="\"$PWD\"")
if [ ! -x "$out/gguf_fuzz" ] || [ -n "$(find src/runtime/gguf.cpp src/runtime/dtype.cpp src/core tests/fuzz -newer "$out/gguf_fuzz" -print -quit)" ]; then
  echo "[fuzz] building gguf_fuzz with $cxx"
  "$cxx" "${flags[@]}" tests/fuzz/gguf_fuzz.cpp src/runtime/gguf.cpp src/runtime/dtype.cpp \
    src/core/file_map.cpp src/core/error.cpp -lfmt -o "$out/gguf_fuzz"
fi
.venv/bin/python tests/fuzz/make_seed.py "$out/corpus-gguf"
echo "[fuzz] running gguf_fuzz for ${seconds}s"
"$out/gguf_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus-gguf" 2>&1 | tail -n 12
echo "[fuzz] gguf_fuzz: no crash in ${seconds}s"
