#!/usr/bin/python3
"""The desktop's D-Bus services, as the end-to-end tests need them, on the session bus.

    desktop_bus.py notifications LOG   own org.freedesktop.Notifications; append each Notify
                                       call to LOG as a JSON line; serve until killed
    desktop_bus.py invoke ID KEY       make the notification server report action KEY on
                                       notification ID (ActionInvoked)
    desktop_bus.py watcher LOG         own org.kde.StatusNotifierWatcher; append each
                                       registered tray item to LOG as a JSON line
    desktop_bus.py launcher LOG        listen as a dock does for Unity launcher entries'
                                       updates; append each count to LOG as a JSON line
    desktop_bus.py tray SERVICE PATH   print the tray item's state as JSON: its title, label,
                                       icon, and its menu's labels
    desktop_bus.py click SERVICE PATH LABEL
                                       click the tray menu's item with this label

Runs with the system's python3 (python3-dbus, python3-gi).
"""

import json
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
WATCHER = "org.kde.StatusNotifierWatcher"
WATCHER_PATH = "/StatusNotifierWatcher"
ITEM = "org.kde.StatusNotifierItem"
DBUSMENU = "com.canonical.dbusmenu"


def append(log, record):
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


class Notifications(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, NOTIFICATIONS_PATH)
        # Kept under another attribute than `_name`, which the base class uses.
        self.bus_name = dbus.service.BusName(NOTIFICATIONS, bus, do_not_queue=True)
        self.log = log
        self.next_id = 0

    @dbus.service.method(NOTIFICATIONS, out_signature="as")
    def GetCapabilities(self):
        return ["actions", "body"]

    @dbus.service.method(NOTIFICATIONS, out_signature="ssss")
    def GetServerInformation(self):
        return ("huddle-test", "huddle", "1", "1.2")

    @dbus.service.method(NOTIFICATIONS, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        self.next_id += 1
        append(self.log, {
            "event": "notify",
            "id": self.next_id,
            "app": str(app),
            "summary": str(summary),
            "body": str(body),
            "actions": [str(a) for a in actions],
        })
        return self.next_id

    @dbus.service.method(NOTIFICATIONS, in_signature="u")
    def CloseNotification(self, nid):
        append(self.log, {"event": "close", "id": int(nid)})
        self.NotificationClosed(nid, 3)

    @dbus.service.method("org.huddle.Test", in_signature="us")
    def Invoke(self, nid, key):
        self.ActionInvoked(nid, key)

    @dbus.service.signal(NOTIFICATIONS, signature="us")
    def ActionInvoked(self, nid, key):
        pass

    @dbus.service.signal(NOTIFICATIONS, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass


class Watcher(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, WATCHER_PATH)
        self.bus_name = dbus.service.BusName(WATCHER, bus, do_not_queue=True)
        self.log = log
        self.items = []

    @dbus.service.method(WATCHER, in_signature="s", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        path = service if service.startswith("/") else "/StatusNotifierItem"
        self.items.append(f"{sender}{path}")
        append(self.log, {"event": "item", "service": str(sender), "path": str(path)})
        self.StatusNotifierItemRegistered(f"{sender}{path}")

    @dbus.service.method(WATCHER, in_signature="s")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        return self.GetAll(interface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": True,
            "ProtocolVersion": dbus.Int32(0),
        }


def launcher(bus, log):
    """Records the count of each com.canonical.Unity.LauncherEntry Update signal. Owns
    com.canonical.Unity, as the docks that show counts do: libunity sends counts only while
    that name has an owner."""

    # Each update carries only the properties that changed, as a dock accumulates them.
    entries = {}

    def update(app_uri, props):
        entry = entries.setdefault(str(app_uri), {"count": 0, "count_visible": False})
        if "count" in props:
            entry["count"] = int(props["count"])
        if "count-visible" in props:
            entry["count_visible"] = bool(props["count-visible"])
        append(log, {"event": "launcher", "app_uri": str(app_uri), **entry})

    bus.add_signal_receiver(
        update, signal_name="Update", dbus_interface="com.canonical.Unity.LauncherEntry"
    )
    return dbus.service.BusName("com.canonical.Unity", bus)


def serve(kind, log):
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    if kind == "notifications":
        service = Notifications(bus, log)
    elif kind == "watcher":
        service = Watcher(bus, log)
    else:
        service = launcher(bus, log)
    append(log, {"event": "ready"})
    GLib.MainLoop().run()
    del service


def labels(layout):
    """The labels of a dbusmenu layout (id, properties, children), depth first."""
    _, props, children = layout
    found = []
    label = props.get("label")
    if label is not None:
        found.append({
            "label": str(label).replace("_", ""),
            "enabled": bool(props.get("enabled", True)),
            "checked": int(props.get("toggle-state", -1)) == 1,
        })
    for child in children:
        found.extend(labels(child))
    return found


def find(layout, label):
    item_id, props, children = layout
    if str(props.get("label", "")).replace("_", "") == label:
        return int(item_id)
    for child in children:
        found = find(child, label)
        if found is not None:
            return found
    return None


def tray(service, path):
    bus = dbus.SessionBus()
    item = bus.get_object(service, path)
    props = item.GetAll(ITEM, dbus_interface=dbus.PROPERTIES_IFACE)
    menu_path = props.get("Menu")
    menu = bus.get_object(service, menu_path)
    _, layout = menu.GetLayout(0, -1, [], dbus_interface=DBUSMENU)
    state = {
        "title": str(props.get("Title", "")),
        "label": str(props.get("XAyatanaLabel", "")),
        "icon": str(props.get("IconName", "")),
        "menu": labels(layout),
    }
    print(json.dumps(state))


def click(service, path, label):
    bus = dbus.SessionBus()
    item = bus.get_object(service, path)
    menu_path = item.Get(ITEM, "Menu", dbus_interface=dbus.PROPERTIES_IFACE)
    menu = bus.get_object(service, menu_path)
    _, layout = menu.GetLayout(0, -1, [], dbus_interface=DBUSMENU)
    item_id = find(layout, label)
    if item_id is None:
        sys.exit(f"no menu item {label!r}")
    menu.Event(item_id, "clicked", dbus.String("", variant_level=1), dbus.UInt32(int(time.time())),
               dbus_interface=DBUSMENU)


def invoke(nid, key):
    bus = dbus.SessionBus()
    server = bus.get_object(NOTIFICATIONS, NOTIFICATIONS_PATH)
    server.Invoke(dbus.UInt32(int(nid)), key, dbus_interface="org.huddle.Test")


def main(args):
    if len(args) == 2 and args[0] in ("notifications", "watcher", "launcher"):
        serve(args[0], args[1])
    elif len(args) == 3 and args[0] == "invoke":
        invoke(args[1], args[2])
    elif len(args) == 3 and args[0] == "tray":
        tray(args[1], args[2])
    elif len(args) == 4 and args[0] == "click":
        click(args[1], args[2], args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
