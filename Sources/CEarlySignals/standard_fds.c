// Opens /dev/null on stdin, stdout and stderr when berth starts without them, before anything else can take them.
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/// Run from the executable's .preinit_array, before any library initializer opens a file. A launcher that closed
/// descriptors 0-2 left them to the first files berth opened: the epoll descriptor took 0 and libevent's signal pipe
/// 1 and 2, so every log line went into the pipe through which libevent hears SIGTERM and SIGHUP. As Go's runtime
/// does, each missing one is opened on /dev/null (open returns the lowest free descriptor, which is that one).
static void berth_fill_standard_fds(int argc, char **argv, char **envp) {
    (void)argc;
    (void)argv;
    (void)envp;
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        // The lower ones are open by now, so this is the one missing; a failure leaves it as it was.
        (void)open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    }
}

/// Whichever side of the signal hook's entry the linker puts it, it runs before every library initializer.
__attribute__((section(".preinit_array"), used))
static void (*berth_standard_fds_entry)(int, char **, char **) = berth_fill_standard_fds;
