/* berth's epoll_wait, which libevent's epoll backend calls: one poll counted for the loop the thread runs, then polled. */
#include <sys/epoll.h>
#include <stddef.h>
#include "loop_polls.h"

/* Initial-exec: the executable's own variable, read without a call (the general model's __tls_get_addr). */
__thread long *berth_loop_polls __attribute__((tls_model("initial-exec")));

/* Exported from the executable (Package.swift), so libevent's call binds here, not to glibc's: the same system call,
   as epoll_pwait with no signal mask. Counted before the poll; no callback runs until it returns. */
int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout) {
    long *polls = berth_loop_polls;
    if (polls != NULL) *polls += 1;
    return epoll_pwait(epfd, events, max, timeout, NULL);
}
