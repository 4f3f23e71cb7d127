/* tn_net — the listening socket of a front end (LDAP, HTTP): resolve,
 * bind, listen, and the address it got (port 0 = any free port). */
#ifndef TN_NET_H
#define TN_NET_H

#include <stddef.h>

#include "tn_err.h"

/* A listening TCP socket on addr (a numeric address or host name) and
 * port; bound receives "host:port" ("[v6]:port" for IPv6) as bound. what
 * names the listener in errors ("LDAP", "HTTP"). Returns the descriptor
 * (close-on-exec; the caller owns it) or -1 with e set. */
int tn_net_listen(const char *addr, int port, const char *what, char *bound, size_t cap,
                  tn_err *e);

#endif
