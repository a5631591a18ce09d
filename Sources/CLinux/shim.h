#ifndef MAILRELAY_CLINUX_SHIM_H
#define MAILRELAY_CLINUX_SHIM_H
// Linux calls that Swift's Glibc module does not expose: epoll, eventfd, syncfs, accept4, malloc_trim.
// They are declared here rather than by defining _GNU_SOURCE, which would make these headers
// disagree with the Glibc module's view of the same types.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <stddef.h>

extern int syncfs(int fd);
extern int malloc_trim(size_t pad);
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);

static inline int mr_syncfs(int fd) { return syncfs(fd); }
static inline int mr_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags) {
    return accept4(fd, addr, addrlen, flags);
}
#endif
