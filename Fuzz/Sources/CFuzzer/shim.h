#ifndef CTDOCTOR_CFUZZER_SHIM_H
#define CTDOCTOR_CFUZZER_SHIM_H
#include <stddef.h>
#include <stdint.h>
// libFuzzer's entry for programs that have a main of their own (Swift executables do): -sanitize=fuzzer links it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
#endif
