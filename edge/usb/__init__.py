"""The edge's USB stick service: a pyudev watcher that opens a technician's stick, acts on `VILLAGENET/`, signs a
receipt and lets go (watcher.py, stick_job.py). Re-exported here: what the status and the staff page read."""

from .activity import UsbActivity, activity_for, last_operation, usb_status

__all__ = ["UsbActivity", "activity_for", "last_operation", "usb_status"]
