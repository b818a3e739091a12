"""One desktop notification through the freedesktop notification service (org.freedesktop.Notifications).

Over the session D-Bus with jeepney (pure Python, explicit signatures: Notify is `susssasa{sv}i`). `show`
sends the notification and, when the service supports actions, waits a bounded time for a click.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, HeaderFields, MatchRule, MessageType, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, Proxy, open_dbus_connection
from jeepney.wrappers import DBusErrorResponse, unwrap_msg

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
NOTIFICATIONS = DBusAddress(PATH, bus_name=SERVICE, interface=SERVICE)
#: The action a click on the notification's body invokes (the spec's name for it).
DEFAULT_ACTION = "default"
CALL_TIMEOUT_S = 10.0


class NotifyError(Exception):
    """The notification could not be shown: no session bus, or no notification service on it."""


@dataclass(frozen=True, slots=True)
class Notification:
    summary: str
    #: Lines of plain text: escaped here when the service reads markup.
    lines: Sequence[str]
    action_label: str
    app_name: str = "API Key Manager"
    icon: str = "apikeys"
    desktop_entry: str = "apikeys"


def body_text(lines: Sequence[str], markup: bool) -> str:
    """The body: `&`, `<` and `>` escaped when the service reads the spec's markup, so a description stays text."""
    return "\n".join(html.escape(line, quote=False) if markup else line for line in lines)


def _connect() -> DBusConnection:
    try:
        return open_dbus_connection(bus="SESSION")
    except (OSError, KeyError, ValueError) as err:
        raise NotifyError(f"No desktop session bus to show a notification on ({err}).") from None


def _call(
    conn: DBusConnection, method: str, signature: str | None = None, body: tuple[object, ...] = ()
) -> tuple[Any, ...]:
    """The reply's values: D-Bus types them by its signature, known only at run time (Notify's is `u`)."""
    try:
        reply = conn.send_and_get_reply(new_method_call(NOTIFICATIONS, method, signature, body), timeout=CALL_TIMEOUT_S)
        return tuple(unwrap_msg(reply))
    except DBusErrorResponse as err:
        raise NotifyError(f"The desktop's notification service did not answer ({err.name}).") from None
    except TimeoutError:
        raise NotifyError("The desktop's notification service did not answer in time.") from None


def show(notification: Notification, wait_s: float) -> bool:
    """Show `notification`; True when it was clicked within `wait_s` seconds (False: closed, or not clicked)."""
    with _connect() as conn:
        capabilities = set(_call(conn, "GetCapabilities")[0])
        clickable = "actions" in capabilities and wait_s > 0
        rule = MatchRule(type="signal", interface=SERVICE, path=PATH)
        if clickable:
            Proxy(message_bus, conn, timeout=CALL_TIMEOUT_S).AddMatch(rule)
        with conn.filter(rule, bufsize=64) as signals:
            hints = {"urgency": ("y", 1), "desktop-entry": ("s", notification.desktop_entry)}
            actions = [DEFAULT_ACTION, notification.action_label] if clickable else []
            body = body_text(notification.lines, "body-markup" in capabilities)
            (notification_id,) = _call(
                conn,
                "Notify",
                "susssasa{sv}i",
                (notification.app_name, 0, notification.icon, notification.summary, body, actions, hints, -1),
            )
            return clickable and _clicked(conn, signals, notification_id, wait_s)


def _clicked(conn: DBusConnection, signals: object, notification_id: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = conn.recv_until_filtered(signals, timeout=left)
        except TimeoutError:
            return False
        if message.header.message_type is not MessageType.signal or not message.body:
            continue
        if message.body[0] != notification_id:
            continue  # another application's notification
        member = message.header.fields.get(HeaderFields.member)
        if member == "ActionInvoked":
            return True
        if member == "NotificationClosed":
            return False
    return False
