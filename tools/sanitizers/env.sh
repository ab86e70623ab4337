# Sanitizer run-time options for haq's ASan/UBSan builds (scripts/sanitize.sh,
# scripts/fuzz.sh, ctest's fuzz_smoke_* tests). Source it: `source tools/sanitizers/env.sh`.
# The suppression files name third-party libraries only, never project code.
_haq_san_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export ASAN_OPTIONS="suppressions=$_haq_san_dir/asan.supp:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:halt_on_error=1:abort_on_error=0:print_suppressions=0${HAQ_EXTRA_ASAN_OPTIONS:+:$HAQ_EXTRA_ASAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$_haq_san_dir/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="suppressions=$_haq_san_dir/ubsan.supp:print_stacktrace=1:halt_on_error=1:print_suppressions=0"
unset _haq_san_dir
