"""Expiry reminders outside the window: a desktop notification while keys are about to expire.

Qt-free on purpose (the command line's rule): the notification goes to the freedesktop notification service
over the session D-Bus through jeepney, and the on/off setting lives in a small private file (config.py) that
the window's View ▸ Expiry Reminders action and `apikeys remind --on/--off` both write.
"""
