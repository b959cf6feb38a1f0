"""The edge's USB stick service: a pyudev watcher that opens a technician's stick, acts on `VILLAGENET/`, signs a
receipt and lets go. Public: `UsbWatcher`, `service_stick`, `last_operation` (for the staff page), `usb_status`."""

from .activity import UsbActivity, activity_for, last_operation, usb_status

__all__ = ["UsbActivity", "activity_for", "last_operation", "usb_status"]
