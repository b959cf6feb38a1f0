"""The edge's USB stick service: a pyudev watcher that opens a technician's stick, acts on `VILLAGENET/`, signs a
receipt and lets go (watcher.py, stick_job.py). The edge runs unprivileged: stick_helper.py is the small privileged
process that opens sticks for it, stick_access.py its side of that. Re-exported here: what the status and the staff
page read."""

from .activity import UsbActivity, activity_for, last_operation, usb_status

__all__ = ["UsbActivity", "activity_for", "last_operation", "usb_status"]
