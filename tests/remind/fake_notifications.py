"""A small freedesktop notification server for tests: `python -m tests.remind.fake_notifications LOG [--click]`.

Connects to $DBUS_SESSION_BUS_ADDRESS, owns org.freedesktop.Notifications, answers GetCapabilities,
GetServerInformation, Notify (each call's arguments appended to LOG as one JSON line) and CloseNotification.
With --click, a Notify is answered and then "clicked": ActionInvoked(id, "default") is emitted, as a desktop
does when the person clicks the notification. Prints "ready" once the name is owned.
"""

from __future__ import annotations

import json
import sys

from jeepney import MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import Proxy, open_dbus_connection
from jeepney.wrappers import DBusAddress, new_error

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
CAPABILITIES = ["actions", "body", "body-markup"]


def main(log_path: str, click: bool) -> None:
    emitter = DBusAddress(PATH, interface=SERVICE)
    with open_dbus_connection(bus="SESSION") as conn:
        reply = Proxy(message_bus, conn).RequestName(SERVICE, 4)  # DO_NOT_QUEUE
        assert reply == (1,), reply  # primary owner
        print("ready", flush=True)
        next_id = 0
        while True:
            msg = conn.receive()
            fields = msg.header.fields
            if msg.header.message_type is not MessageType.method_call or fields.get(3) is None:
                continue
            member = fields[3]
            if member == "GetCapabilities":
                conn.send(new_method_return(msg, "as", (CAPABILITIES,)))
            elif member == "GetServerInformation":
                conn.send(new_method_return(msg, "ssss", ("fake", "tests", "1", "1.2")))
            elif member == "Notify":
                next_id += 1
                app, _replaces, icon, summary, body, actions, hints, _timeout = msg.body
                record = {
                    "signature": str(fields.get(8)),
                    "app_name": app,
                    "summary": summary,
                    "body": body,
                    "actions": actions,
                    "hints": {name: value[1] for name, value in hints.items()},
                    "icon": icon,
                }
                with open(log_path, "a", encoding="utf-8") as log:
                    log.write(json.dumps(record) + "\n")
                conn.send(new_method_return(msg, "u", (next_id,)))
                if click:
                    conn.send(new_signal(emitter, "ActionInvoked", "us", (next_id, "default")))
                    conn.send(new_signal(emitter, "NotificationClosed", "uu", (next_id, 2)))
            elif member == "CloseNotification":
                conn.send(new_method_return(msg))
            else:
                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main(sys.argv[1], "--click" in sys.argv[2:])
