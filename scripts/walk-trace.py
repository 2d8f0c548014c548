"""gdb script for scripts/walk, attached to a running berth: while /tmp/berth-walk.on exists, records the source file and function of every
function entered in berth's own modules, one line per entry, into $WALK_OUT. The functions are every text symbol
of BerthCore, HTTP1 and EventLoop (`nm`), so getters, closures and thunks count as the calls they are."""
import os
import subprocess

import gdb

FLAG = "/tmp/berth-walk.on"
OUT = os.environ["WALK_OUT"]
PREFIXES = ("$s9BerthCore", "$s5HTTP1", "$s9EventLoop")


class Entry(gdb.Breakpoint):
    """A breakpoint that never stops: it appends the entered function's file and name while the flag is up."""

    def stop(self):
        if os.path.exists(FLAG):
            frame = gdb.selected_frame()
            sal = frame.find_sal()
            path = sal.symtab.filename if sal.symtab else "?"
            with open(OUT, "a") as f:
                f.write(f"{path}\t{frame.name()}\n")
        return False


def main():
    # Attached to a running berth (`gdb -p`): startup, with its thousands of calls, is not traced.
    binary = gdb.current_progspace().filename
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("handle SIGPIPE nostop noprint pass")
    gdb.execute("handle SIGTERM nostop noprint pass")
    # A PIE: the symbols' addresses are offsets from where the binary's first mapping landed.
    base = None
    for line in gdb.execute("info proc mappings", to_string=True).splitlines():
        fields = line.split()
        if len(fields) >= 5 and fields[-1] == binary and int(fields[3], 16) == 0:
            base = int(fields[0], 16)
            break
    symbols = subprocess.run(["nm", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    count = 0
    for line in symbols.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "tT" and fields[2].startswith(PREFIXES):
            Entry(f"*{hex(base + int(fields[0], 16))}", internal=True)
            count += 1
    with open(OUT + ".ready", "w") as f:
        f.write(f"{count} entry breakpoints\n")
    gdb.execute("continue")


main()
