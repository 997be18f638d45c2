#!/usr/bin/env bash
# Runs the whole test suite against an existing build: ctest (GoogleTest cases and registered
# checks), pytest (end-to-end and real-peer checks), bounded fuzzing, then one summary line.
# Never builds or installs anything itself: `make test` does that first.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${DUET_BUILD_DIR:-$PWD/build}
export DUET_BUILD_DIR=$build
export DUET_MODELS=${DUET_MODELS:-$PWD/models}
mkdir -p "$build/test-logs"

ctest --test-dir "$build" --output-on-failure -j "$(nproc)" ${CTEST_ARGS:-} 2>&1 | tee "$build/test-logs/ctest.log"
ctest_rc=${PIPESTATUS[0]}
line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$build/test-logs/ctest.log" | tail -n 1)
c_total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
c_failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
c_total=${c_total:-0}; c_failed=${c_failed:-0}
if [ "$ctest_rc" -ne 0 ] && [ "$c_failed" -eq 0 ]; then c_failed=1; fi

.venv/bin/python -m pytest tests/python -q -rs ${PYTEST_ARGS:-} 2>&1 | tee "$build/test-logs/pytest.log"
pytest_rc=${PIPESTATUS[0]}
last=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error)' "$build/test-logs/pytest.log" | tail -n 1)
count() { grep -oE "[0-9]+ $1" <<<"$last" | head -n 1 | cut -d' ' -f1; }
p_passed=$(count passed); p_failed=$(count failed); p_errors=$(count error); p_skipped=$(count skipped)
p_passed=${p_passed:-0}; p_failed=$(( ${p_failed:-0} + ${p_errors:-0} )); p_skipped=${p_skipped:-0}
if [ "$pytest_rc" -ne 0 ] && [ "$pytest_rc" -ne 5 ] && [ "$p_failed" -eq 0 ]; then p_failed=1; fi

# Bounded fuzzing of the file readers (libFuzzer, clang, ASan+UBSan): one check.
f_passed=0; f_failed=0
if scripts/run-fuzz.sh 2>&1 | tee "$build/test-logs/fuzz.log"; then f_passed=1; else f_failed=1; fi

passed=$(( c_total - c_failed + p_passed + f_passed ))
failed=$(( c_failed + p_failed + f_failed ))
echo
echo "ctest: $((c_total - c_failed)) passed, $c_failed failed; pytest: $p_passed passed, $p_failed failed, $p_skipped skipped; fuzz: $f_passed passed, $f_failed failed"
echo "summary: $passed passed, $failed failed, $p_skipped skipped"
[ "$failed" -eq 0 ]
