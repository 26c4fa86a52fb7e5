#ifndef CTDOCTOR_CLINUX_SHIM_H
#define CTDOCTOR_CLINUX_SHIM_H
// Linux system calls Swift cannot reach through Glibc: syscall(2) is variadic, and openat2's header is not imported.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define CTD_RESOLVE_NO_XDEV 0x01
#define CTD_RESOLVE_NO_MAGICLINKS 0x02
#define CTD_RESOLVE_NO_SYMLINKS 0x04
#define CTD_RESOLVE_BENEATH 0x08
#define CTD_RESOLVE_IN_ROOT 0x10

/// O_PATH needs _GNU_SOURCE, which Glibc's Swift module is not built with.
static const int ctd_O_PATH = O_PATH;

/// openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is resolved as if `dirfd` were the root
/// directory (absolute links and ".." never leave it). Returns the fd, or -1 with errno set (ENOSYS before 5.6).
static inline int ctd_openat_in_root(int dirfd, const char *path, uint64_t flags, uint64_t mode) {
    struct { uint64_t flags, mode, resolve; } how = { flags, mode, CTD_RESOLVE_IN_ROOT | CTD_RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

/// memmem(3), a GNU extension the Glibc module does not declare: the byte search of the line readers.
static inline const void *ctd_memmem(const void *haystack, size_t length, const void *needle, size_t needleLength) {
    return memmem(haystack, length, needle, needleLength);
}
#endif
