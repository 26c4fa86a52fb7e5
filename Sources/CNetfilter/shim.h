#ifndef CTDOCTOR_CNETFILTER_SHIM_H
#define CTDOCTOR_CNETFILTER_SHIM_H

#include <stdint.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

/* Macros Swift cannot import. */
static inline size_t ctd_mnl_socket_buffer_size(void) { return MNL_SOCKET_BUFFER_SIZE; }
static inline uint16_t ctd_nfnl_msg_type(uint8_t subsys, uint8_t msg) { return (uint16_t)((subsys << 8) | msg); }
static inline int ctd_mnl_cb_stop(void) { return MNL_CB_STOP; }
static inline int ctd_mnl_cb_ok(void) { return MNL_CB_OK; }
static inline int ctd_mnl_cb_error(void) { return MNL_CB_ERROR; }

#endif
