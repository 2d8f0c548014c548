/* event_priority_set without its call into libevent: a pooled connection's read event changes priority twice per
   request (urgent while idle), and the library call with its checks cost ~24 instructions each. Reads libevent's
   public event_struct.h, which matches the installed library (libevent-dev and libevent-2.1-7 come together). */
#include <event2/event.h>
#include <event2/event_struct.h>
#include "event_priority.h"

void berth_event_set_priority(void *event, int priority) {
    struct event *ev = event;
    /* As libevent: an active event keeps the priority it was queued with. */
    if (ev->ev_evcallback.evcb_flags & EVLIST_ACTIVE) return;
    ev->ev_evcallback.evcb_pri = (ev_uint8_t)priority;
}
