/* The smallest complete table dump with libnetfilter_conntrack: nfct_query(NFCT_Q_DUMP) with a callback that
 * counts entries. The baseline `ctdoctor top` is compared with in Benchmarks/run. */
#include <stdio.h>
#include <stdint.h>
#include <sys/socket.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

static int count_entry(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
    (void)type;
    (void)ct;
    (*(unsigned long *)data)++;
    return NFCT_CB_CONTINUE;
}

int main(void)
{
    struct nfct_handle *h = nfct_open(CONNTRACK, 0);
    if (h == NULL) {
        perror("nfct_open");
        return 1;
    }
    unsigned long entries = 0;
    nfct_callback_register(h, NFCT_T_ALL, count_entry, &entries);
    uint32_t family = AF_UNSPEC;
    if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
        perror("nfct_query");
        nfct_close(h);
        return 1;
    }
    nfct_close(h);
    printf("%lu entries\n", entries);
    return 0;
}
