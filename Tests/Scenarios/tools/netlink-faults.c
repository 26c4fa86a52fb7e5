// An LD_PRELOAD library that makes ctdoctor's netlink requests fail the way a busy or changing kernel makes them
// fail, at a chosen point of a chosen reply, without changing the binary under test. The tests build it with
// `cc -shared -fPIC` (NetlinkFaultTests).
//
// CTD_NETLINK_FAULT = FAULT[,FAULT...], each ACTION:SUBSYS/MESSAGE:RECEIVE[:TIMES]
//   ACTION     dump-intr  the RECEIVE-th receive of the reply is real, with NLM_F_DUMP_INTR set on its first message
//                         (what the kernel does when the table changed during the dump)
//              enobufs    the RECEIVE-th receive fails with ENOBUFS (the socket's queue overflowed)
//              eintr      the RECEIVE-th receive fails with EINTR (a signal), once; nothing is lost
//              eperm      the request itself is refused with EPERM (RECEIVE is ignored)
//   SUBSYS/MESSAGE  the nfnetlink request it applies to, by number: 1/1 is ctnetlink's IPCTNL_MSG_CT_GET,
//                   1/4 IPCTNL_MSG_CT_GET_STATS_CPU, 10/7 nf_tables' NFT_MSG_GETRULE
//   TIMES      how many of those requests get the fault (default 1; 0 for every one)
// CTD_NETLINK_FAULT_LOG = a file each fault that fired is appended to as "ACTION SUBSYS/MESSAGE RECEIVE", so a
//   test can tell a fault that fired from one that never matched.
// Both variables and LD_PRELOAD are removed from the environment at load, so commands ctdoctor runs (nft,
// iptables-save) are not faulted.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum action { DUMP_INTR, ENOBUFS_, EINTR_, EPERM_ };
static const char *names[] = { "dump-intr", "enobufs", "eintr", "eperm" };

struct fault {
    enum action action;
    unsigned type;     // (subsys << 8) | message
    unsigned receive;  // 1-based receive of the reply
    unsigned times;    // 0: every request
    unsigned matched;  // requests of that type seen so far
};

#define MAX_FAULTS 8
#define MAX_FDS 1024
static struct fault faults[MAX_FAULTS];
static int nfaults;
static char logpath[512];

// Per socket: the fault armed by the last request sent on it, and how many receives of its reply have happened.
static struct { int fault; unsigned receives; } sockets[MAX_FDS];

static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);

static void note(const struct fault *f, unsigned receive) {
    if (!logpath[0]) return;
    int fd = open(logpath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    char line[64];
    int n = snprintf(line, sizeof line, "%s %u/%u %u\n", names[f->action], f->type >> 8, f->type & 0xff, receive);
    if (write(fd, line, (size_t)n) < 0) { /* the test will see the line missing */ }
    close(fd);
}

__attribute__((constructor)) static void load(void) {
    real_sendto = dlsym(RTLD_NEXT, "sendto");
    real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
    for (int i = 0; i < MAX_FDS; i++) sockets[i].fault = -1;
    const char *log = getenv("CTD_NETLINK_FAULT_LOG");
    if (log) snprintf(logpath, sizeof logpath, "%s", log);
    const char *spec = getenv("CTD_NETLINK_FAULT");
    char copy[512];
    snprintf(copy, sizeof copy, "%s", spec ? spec : "");
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item && nfaults < MAX_FAULTS; item = strtok_r(NULL, ",", &save)) {
        char action[16];
        unsigned subsys, message, receive, times = 1;
        if (sscanf(item, "%15[a-z-]:%u/%u:%u:%u", action, &subsys, &message, &receive, &times) < 4) {
            fprintf(stderr, "netlink-faults: cannot read %s\n", item);
            _exit(97);
        }
        int a = -1;
        for (int k = 0; k < 4; k++) if (!strcmp(action, names[k])) a = k;
        if (a < 0) { fprintf(stderr, "netlink-faults: unknown action %s\n", action); _exit(97); }
        faults[nfaults++] = (struct fault){ (enum action)a, (subsys << 8) | message, receive, times, 0 };
    }
    unsetenv("LD_PRELOAD");
    unsetenv("CTD_NETLINK_FAULT");
    unsetenv("CTD_NETLINK_FAULT_LOG");
}

static int is_netlink(int fd) {
    struct sockaddr_storage address;
    socklen_t length = sizeof address;
    return fd >= 0 && fd < MAX_FDS && getsockname(fd, (struct sockaddr *)&address, &length) == 0
        && address.ss_family == AF_NETLINK;
}

ssize_t sendto(int fd, const void *buffer, size_t length, int flags, const struct sockaddr *to, socklen_t tolength) {
    if (nfaults && length >= sizeof(struct nlmsghdr) && is_netlink(fd)) {
        const struct nlmsghdr *header = buffer;
        sockets[fd].fault = -1;
        sockets[fd].receives = 0;
        for (int i = 0; i < nfaults; i++) {
            struct fault *f = &faults[i];
            if (f->type != header->nlmsg_type) continue;
            f->matched++;
            if (f->times && f->matched > f->times) continue;
            if (f->action == EPERM_) {
                note(f, 0);
                errno = EPERM;
                return -1;
            }
            sockets[fd].fault = i;
            break;
        }
    }
    return real_sendto(fd, buffer, length, flags, to, tolength);
}

ssize_t recvmsg(int fd, struct msghdr *message, int flags) {
    if (fd < 0 || fd >= MAX_FDS || sockets[fd].fault < 0) return real_recvmsg(fd, message, flags);
    struct fault *f = &faults[sockets[fd].fault];
    unsigned receive = ++sockets[fd].receives;
    if (receive != f->receive) return real_recvmsg(fd, message, flags);
    switch (f->action) {
    case ENOBUFS_: note(f, receive); errno = ENOBUFS; return -1;
    case EINTR_: note(f, receive); errno = EINTR; return -1;
    case DUMP_INTR: {
        ssize_t n = real_recvmsg(fd, message, flags);
        if (n >= (ssize_t)sizeof(struct nlmsghdr) && message->msg_iovlen > 0) {
            ((struct nlmsghdr *)message->msg_iov[0].iov_base)->nlmsg_flags |= NLM_F_DUMP_INTR;
            note(f, receive);
        }
        return n;
    }
    default: return real_recvmsg(fd, message, flags);
    }
}
