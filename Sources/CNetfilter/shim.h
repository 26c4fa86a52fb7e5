#ifndef CTDOCTOR_CNETFILTER_SHIM_H
#define CTDOCTOR_CNETFILTER_SHIM_H

#include <stdint.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

/* NFNL_SUBSYS_ID and NFNL_MSG_TYPE are macros Swift cannot import. */
static inline uint8_t ctd_nfnl_subsys_id(uint16_t type) { return (uint8_t)NFNL_SUBSYS_ID(type); }
static inline uint8_t ctd_nfnl_msg_type(uint16_t type) { return (uint8_t)NFNL_MSG_TYPE(type); }

/* setns(fd, CLONE_NEWNET) for this thread; glibc declares setns only with _GNU_SOURCE. */
static inline int ctd_setns_net(int fd) { return (int)syscall(SYS_setns, fd, CLONE_NEWNET); }

/* Whether the caller is the thread group leader (gettid() == getpid()); glibc declares gettid only with _GNU_SOURCE. */
static inline int ctd_is_main_thread(void) { return syscall(SYS_gettid) == getpid(); }

/* An nfnetlink request: netlink header, then the nfgenmsg header (family, version 0, res_id in network order,
 * e.g. the nfnetlink_log group). */
static inline struct nlmsghdr *ctd_nfnl_request(void *buf, uint8_t subsys, uint8_t msg, uint16_t flags,
                                                uint8_t family, uint16_t res_id, uint32_t seq)
{
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (uint16_t)((subsys << 8) | msg);
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    struct nfgenmsg *nfh = mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
    nfh->nfgen_family = family;
    nfh->version = NFNETLINK_V0;
    nfh->res_id = htons(res_id);
    return nlh;
}

/* nfgenmsg.res_id in host order: the CPU number in GET_STATS_CPU replies. */
static inline uint16_t ctd_nfnl_res_id(const struct nlmsghdr *nlh)
{
    const struct nfgenmsg *nfh = mnl_nlmsg_get_payload(nlh);
    return ntohs(nfh->res_id);
}

/* Every top-level 4-byte attribute of an nfnetlink message (mnl_attr_for_each is a macro): values[type] in host
 * order and bit `type` of *present set, for types below 64. Other attributes are skipped. */
static inline void ctd_nfnl_u32_attrs(const struct nlmsghdr *nlh, uint32_t values[64], uint64_t *present)
{
    const struct nlattr *attr;
    *present = 0;
    mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
        uint16_t type = mnl_attr_get_type(attr);
        if (type >= 64 || mnl_attr_get_payload_len(attr) != sizeof(uint32_t))
            continue;
        values[type] = ntohl(mnl_attr_get_u32(attr));
        *present |= (uint64_t)1 << type;
    }
}

#endif
