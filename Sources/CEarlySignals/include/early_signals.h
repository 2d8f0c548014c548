// The preinit hook that blocks berth's stop and reload signals from its first instruction (early_signals.c).
#ifndef BERTH_EARLY_SIGNALS_H
#define BERTH_EARLY_SIGNALS_H

/// 1 in a binary that carries the hook; nothing needs to read it (the hook runs from its section), it only names
/// the target's one symbol.
extern const int berth_early_signals_linked;

#endif
