// Linux-only system calls that Glibc's Swift module does not expose.
//
// No _GNU_SOURCE here: defining it would give this module's copies of the libc headers a different
// shape from Glibc's and hide names such as SOCK_STREAM from Swift. The two GNU functions we need are
// declared by hand instead, with their glibc signatures.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>

struct sockaddr;
extern int accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);
extern int pthread_setname_np(pthread_t thread, const char *name);

// One call gives a non-blocking, close-on-exec socket.
static inline int clinux_accept4(int fd, int flags) { return accept4(fd, (struct sockaddr *)0, (unsigned int *)0, flags); }

// Names the calling thread (as top, perf and gdb show it); the kernel keeps 15 bytes.
static inline void clinux_set_thread_name(const char *name) { pthread_setname_np(pthread_self(), name); }
