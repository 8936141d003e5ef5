# The core is freestanding and allocation-free (also checked for a 32-bit target).
add_test(NAME core_freestanding COMMAND bash ${PROJECT_SOURCE_DIR}/Tests/core/check_freestanding.sh)
# The check itself must be able to fail: a planted malloc call is caught.
add_test(NAME core_freestanding_selftest COMMAND bash ${PROJECT_SOURCE_DIR}/Tests/core/selftest_freestanding.sh)
