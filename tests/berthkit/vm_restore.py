"""A synthetic VM restore: one vmgenid uevent written as root to the device's sysfs file, as the kernel sends on a
snapshot restore. Broadcast to the whole machine: every berth running here with the watch on sees it."""
import glob
import os
import uuid


def vmgenid_uevent_file():
    """The sysfs `uevent` file of the device the vmgenid driver owns, or None."""
    for driver in ("/sys/bus/platform/drivers/vmgenid", "/sys/bus/acpi/drivers/vmgenid"):
        for dev in sorted(glob.glob(os.path.join(driver, "*:*"))):
            path = os.path.join(dev, "uevent")
            if os.path.exists(path):
                return path
    return None


def restore_unavailable():
    """Why no synthetic restore can be raised here, or None when one can."""
    if vmgenid_uevent_file() is None:
        return "no vmgenid device here (no VMGENCTR/QEMUVGID bound to the vmgenid driver): nothing to watch"
    if os.geteuid() != 0:
        return "writing a synthetic uevent needs root"
    return None


def raise_restore():
    """Raises one synthetic VM generation change (the kernel takes only alphanumeric argument names; it sends this
    one as SYNTH_ARG_NEWVMGENID=1)."""
    with open(vmgenid_uevent_file(), "w") as f:
        f.write(f"change {uuid.uuid4()} NEWVMGENID=1")
