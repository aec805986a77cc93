// Linux-only system calls that Glibc's Swift module does not expose.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

// accept4 is declared only under _GNU_SOURCE; one call gives a non-blocking, close-on-exec socket.
static inline int clinux_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

#include <pthread.h>
// Names the calling thread (as top, perf and gdb show it); the kernel keeps 15 bytes.
static inline void clinux_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }
