// Blocks berth's signals (stop, reload, the ignored USR1/USR2) before any library initializer runs, so one sent while berth loads waits for its handlers.
#include <signal.h>
#include "early_signals.h"

/// Run from the executable's .preinit_array: after the dynamic loader has mapped and relocated the libraries (under
/// a millisecond) and before any of their initializers (libswiftCore's, Foundation's, ICU's: some 12 ms under load),
/// which is the window in which a SIGHUP killed berth and a SIGTERM ended it by the signal. A signal sent meanwhile
/// stays pending; `EarlySignals.hold` installs its handler and unblocks them, and the handler takes it then.
static void berth_block_early_signals(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    (void)envp;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, 0);
}

/// The entry the loader calls. Only an executable's .preinit_array runs before its libraries' initializers, which is
/// why this target is linked into the `berth` executable alone (test bundles keep the signals' default handling).
__attribute__((section(".preinit_array"), used))
static void (*berth_early_signals_entry)(int, char **, char **) = berth_block_early_signals;

const int berth_early_signals_linked = 1;
