"""gdb script for scripts/walk, attached to a running berth: while /tmp/berth-walk.on exists, records the source file and function of every
function entered in berth's own modules, one line per entry, into $WALK_OUT. The functions are every text symbol
of BerthCore, HTTP1 and EventLoop (`nm`), so getters, closures and thunks count as the calls they are.

A function's file is the one that declares it (its DWARF decl_file), not the file of its first instruction's line: in
a release build that line is often an inlined callee's (Worker.listen's accept closure begins with a line of
SessionMachine.swift). Compiler glue that no source file declares is charged to the function that called it (the
nearest caller that is not glue itself): outlined copies and destroys (`WO?`), merged functions (`Tm`), partial-apply
forwarders (`TA`), value witnesses (`w??`) and metadata accessors (`Ma`). Under whole-module optimisation each file is
its own LLVM module and such a helper is emitted, and described, in whichever file's module asked for it first, so its
debug file is an accident (an outlined copy of RequestHead "in" AdminConnection.swift). A specialisation of an
EventLoop or HTTP1 function emitted in BerthCore keeps its own module. Each line: the charged file, the function, the
declaring file, the first line's file, and the file that made the call (`calling_file`)."""
import os
import re
import subprocess

import gdb

FLAG = "/tmp/berth-walk.on"
OUT = os.environ["WALK_OUT"]
PREFIXES = ("$s9BerthCore", "$s5HTTP1", "$s9EventLoop")


GLUE = re.compile(r"(WO[a-z](Tm)?|Tm|TA(\.\d+)?|[VOC]w[a-zA-Z]{2}|Ma)$")
MODULES = {"$s9BerthCore": "BerthCore/", "$s5HTTP1": "HTTP1/", "$s9EventLoop": "EventLoop/"}


def declaring_file(frame):
    fn = frame.function()
    return fn.symtab.filename if fn is not None and fn.symtab else "?"


def charged_file(frame):
    """The file a function entry counts for: its declaring file, or for glue its nearest non-glue caller's."""
    while frame is not None and GLUE.search(frame.name() or ""):
        frame = frame.older()
    if frame is None:
        return "?"
    name, path = frame.name() or "", declaring_file(frame)
    if path == "?":
        return path
    module = next((m for prefix, m in MODULES.items() if name.startswith(prefix)), None)
    if module and module not in path:
        # A specialised copy of another module's function, described as if declared in the file that asked for it.
        return f"Sources/?{module.rstrip('/')} code specialised in another module"
    return path


def calling_file(frame):
    """The file whose code made this call: the charged file of the nearest non-glue frame above the entry's (an
    inlined caller is a frame of its own in gdb, with its own declaring file); "?" from outside berth (libevent)."""
    if GLUE.search(frame.name() or ""):
        return charged_file(frame)  # glue is its caller's code: no call between files
    caller = frame.older()
    return charged_file(caller) if caller is not None else "?"


class Entry(gdb.Breakpoint):
    """A breakpoint that never stops: it appends the entered function's file and name while the flag is up."""

    def stop(self):
        if os.path.exists(FLAG):
            frame = gdb.selected_frame()
            sal = frame.find_sal()
            line_path = sal.symtab.filename if sal.symtab else "?"
            decl_path = declaring_file(frame)
            with open(OUT, "a") as f:
                f.write(f"{charged_file(frame)}\t{frame.name()}\t{decl_path}\t{line_path}\t{calling_file(frame)}\n")
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
