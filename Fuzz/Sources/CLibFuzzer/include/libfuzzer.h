#ifndef XDSC_LIBFUZZER_H
#define XDSC_LIBFUZZER_H
// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer). SwiftPM links
// each executable with `main` aliased to `<module>_main`, so the harness defines that
// symbol and hands control to libFuzzer here instead of relying on libFuzzer's own main.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
