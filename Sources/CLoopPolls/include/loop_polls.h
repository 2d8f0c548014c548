/* The count of polls of the loop the thread runs: berth's own epoll_wait adds one per poll (EventLoop's LoopPass). */
#ifndef BERTH_LOOP_POLLS_H
#define BERTH_LOOP_POLLS_H

/* The running loop's count, set by EventLoop's EventBase.run for its thread; none (0) when no loop runs there. */
extern __thread long *berth_loop_polls __attribute__((tls_model("initial-exec")));

/* Points the thread's polls at `count` (0: stop counting). */
static inline void berth_count_polls(long *count) { berth_loop_polls = count; }

#endif
