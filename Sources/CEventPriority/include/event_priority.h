/* Setting a libevent event's priority in place (event_priority.c): apart from CLibevent, whose struct event stays opaque. */
#ifndef BERTH_EVENT_PRIORITY_H
#define BERTH_EVENT_PRIORITY_H

/* What event_priority_set(event, priority) does for a priority the base has (0 or 1 for berth's loops, which all
   have two): nothing while the event is active, else the priority is stored. `event` is a struct event *. */
void berth_event_set_priority(void *event, int priority);

#endif
