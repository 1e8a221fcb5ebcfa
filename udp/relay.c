/* relay.c - udp-echo relay (to be written). */
#include "udp.h"

int udp_relay_main(const struct net_options *opt, struct net_error *err)
{
    (void)opt;
    return net_err_words(err, NET_ERR_USAGE, "not written yet", "udp-echo relay");
}
