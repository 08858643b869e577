#!/usr/bin/python3
"""Prints the text that a window of a running desktop app shows, read from its accessibility tree.

    atspi_text.py [--wait SECONDS] [--controls] "WINDOW TITLE"

Finds the top-level window whose title is exactly WINDOW TITLE among the applications on the
AT-SPI accessibility bus, and prints the names and text contents of the accessible nodes under
it, one per line, in document order: headings, paragraphs, labels, button and image names, the
values of text fields (their label, or their placeholder while empty). WebKitGTK exposes the
web content of a webview there, so an end-to-end test that drives the real app with xdotool can
check what a window shows without WebDriver. Lines are stripped, runs of white space become one
space, and a line equal to the one before it is left out. A window whose web content is not
there yet (it comes a moment after the window appears) is read again until the wait is over.

With --controls it prints instead each control a keyboard or screen reader user works with
(buttons, toggles, check boxes, fields, combo boxes, menu items, tabs, links) as its role and
accessible name separated by a tab: a control without a name shows with an empty name.

Exit status: 0 when the window was read; 1 when no such window appeared within the wait (5
seconds unless --wait says otherwise); 2 when AT-SPI is unavailable; 3 when the app did not
answer a call within a second, or reading took longer than READ_SECONDS (what was read so far
is printed). At most MAX_NODES nodes are read (a note on stderr says when the tree was cut
there). A busy or hung app cannot hang the reader: it ends within the wait plus READ_SECONDS.

What is read is what the app exposes to screen readers: text hidden with display: none (and,
mostly, aria-hidden) is left out, visually hidden text for screen readers is in, and rows that a
virtualised list does not render are not there at all. WebKitGTK (2.50) also leaves out the
text of a <span> that is a flex or grid item (a <div>, <p> or <strong> there is read).

Runs with the system's python3 (python3-gi, gir1.2-atspi-2.0); at-spi2-core provides the
accessibility bus, which D-Bus starts on demand in the session. The app must run with the
accessibility bridge enabled (the GTK default; NO_AT_BRIDGE must not be 1) on the same D-Bus
session and X display.
"""

import os
import sys
import threading
import time

MAX_NODES = 5000
# The time limit for reading the window, once found.
READ_SECONDS = 10.0
# How long one call into the app may take, in milliseconds.
CALL_TIMEOUT_MS = 1000
OBJECT = "\ufffc"  # stands for an embedded object in an accessible text


def quit_with(code, message):
    print(f"atspi_text: {message}", file=sys.stderr)
    sys.stdout.flush()
    os._exit(code)


try:
    import gi

    gi.require_version("Atspi", "2.0")
    from gi.repository import Atspi, GLib
except (ImportError, ValueError) as error:
    quit_with(2, f"AT-SPI is unavailable: the Atspi GObject bindings cannot be loaded ({error})")


class Truncated(Exception):
    pass


class Unresponsive(Exception):
    pass


def ask(call, *args, default=None):
    """One call into the app. A failed call gives `default`; one that ran into the time-out
    (libatspi then often answers -1, None or "" without an error) raises Unresponsive."""
    start = time.monotonic()
    try:
        return call(*args)
    except GLib.Error:
        return default
    finally:
        if time.monotonic() - start >= CALL_TIMEOUT_MS / 1000 * 0.8:
            raise Unresponsive()


class Node:
    """One accessible object, with what is read of it read at most once."""

    count = 0

    def __init__(self, acc):
        Node.count += 1
        if Node.count > MAX_NODES:
            raise Truncated()
        self.acc = acc
        self._children = None
        self._text = None
        self.interfaces = set(ask(acc.get_interfaces, default=None) or ())
        self.name = ask(acc.get_name, default="") or ""

    @property
    def embedded(self):
        """Whether the object stands in its parent's text as an OBJECT character."""
        return "Hyperlink" in self.interfaces

    @property
    def text(self):
        """The object's text, or None when it has no text interface."""
        if "Text" not in self.interfaces:
            return None
        if self._text is None:
            self._text = ask(Atspi.Text.get_text, self.acc, 0, -1, default="") or ""
        return self._text

    @property
    def editable(self):
        states = ask(self.acc.get_state_set)
        return states is not None and states.contains(Atspi.StateType.EDITABLE)

    def attribute(self, key):
        return (ask(self.acc.get_attributes) or {}).get(key, "")

    @property
    def children(self):
        if self._children is None:
            self._children = []
            count = ask(self.acc.get_child_count, default=0)
            for index in range(max(count, 0)):
                child = ask(self.acc.get_child_at_index, index)
                if child is not None:
                    self._children.append(Node(child))
        return self._children


def flat(text):
    return " ".join((text or "").replace(OBJECT, " ").split())


class Output:
    """The lines read so far, and the line being put together from inline pieces."""

    def __init__(self):
        self.lines = []
        self.pieces = []

    def add(self, piece):
        self.pieces.append(piece)

    def flush(self):
        if self.pieces:
            text, self.pieces = "".join(self.pieces), []
            self.emit(text)

    def emit(self, text):
        for line in text.split("\n"):
            line = " ".join(line.split())
            if line and (not self.lines or self.lines[-1] != line):
                self.lines.append(line)


def embedded_descendants(node, limit):
    """The objects embedded in the node's text, in order: the first embedded object on each
    path down from the node (WebKit embeds, for instance, an input inside a label in the text
    of the label's parent). Stops past `limit` of them."""
    found = []

    def visit(parent):
        for child in parent.children:
            if len(found) > limit:
                return
            if child.embedded:
                found.append(child)
            else:
                visit(child)

    visit(node)
    return found


def render_field(node, out):
    out.flush()
    out.emit(node.name)
    value = (node.text or "").replace(OBJECT, "")
    if value.strip():
        out.emit(value)
    else:
        out.emit(node.attribute("placeholder-text"))


def render_text(node, out, inline):
    """A node with text: its text, with each embedded object put in its place (links and
    other text inline, controls on lines of their own), then the children that its text does
    not already hold."""
    text = node.text
    objects = text.count(OBJECT)
    consumed = []
    if objects:
        found = embedded_descendants(node, objects)
        if len(found) == objects:
            consumed = found
    if consumed:
        queue = iter(consumed)
        for char in text:
            if char == OBJECT:
                render_embedded(next(queue), out)
            else:
                out.add(char)
    else:
        out.add(text.replace(OBJECT, "\n"))
    if not inline:
        out.flush()
    whole = flat(text)
    if not whole and node.name:
        out.flush()
        out.emit(node.name)
    consumed_ids = {id(n) for n in consumed}
    for child in node.children:
        if id(child) in consumed_ids:
            continue
        child_text = child.text
        if child_text is not None and not child.embedded and flat(child_text):
            # Part of this node's text already, as WebKit does for labels and inline spans;
            # without the embedded objects matched, one that holds some is read on its own.
            if flat(child_text) in whole and (consumed or OBJECT not in child_text):
                continue
        out.flush()
        render_block(child, out)


def render_embedded(node, out):
    if node.text is not None and not node.editable:
        render_text(node, out, inline=True)
    else:
        out.flush()
        render_block(node, out)


def render_block(node, out):
    if node.text is not None:
        if node.editable:
            render_field(node, out)
        else:
            render_text(node, out, inline=False)
        return
    out.flush()
    if "Document" not in node.interfaces:
        # A document's name is its title, which the window's title shows, not the page.
        out.emit(node.name)
    for child in node.children:
        render_block(child, out)


CONTROL_ROLES = {
    "push button", "toggle button", "check box", "radio button", "combo box", "entry",
    "password text", "menu item", "check menu item", "radio menu item", "link", "spin button",
    "slider", "page tab", "switch",
}


def render_controls(node, out):
    """Each control under `node`, as "role<TAB>name", depth first."""
    role = ask(node.acc.get_role_name, default="") or ""
    if role in CONTROL_ROLES or (role == "text" and node.editable):
        out.lines.append(f"{role}\t{flat(node.name)}")
    for child in node.children:
        render_controls(child, out)


def find_window(desktop, title, silent):
    """The window titled `title`, or None; adds the applications that did not answer to
    `silent`."""
    for a in range(max(ask(desktop.get_child_count, default=0), 0)):
        app = ask(desktop.get_child_at_index, a)
        if app is None:
            continue
        try:
            for w in range(max(ask(app.get_child_count, default=0), 0)):
                window = ask(app.get_child_at_index, w)
                if window is not None and ask(window.get_name) == title:
                    return window
        except Unresponsive:
            try:
                silent.add(app.get_process_id())
            except GLib.Error:
                silent.add("?")
    return None


def main(argv):
    wait = 5.0
    args = argv[1:]
    if len(args) >= 3 and args[0] == "--wait":
        wait, args = float(args[1]), args[2:]
    controls = len(args) == 2 and args[0] == "--controls"
    if controls:
        args = args[1:]
    if len(args) != 1:
        print('usage: atspi_text.py [--wait SECONDS] [--controls] "WINDOW TITLE"', file=sys.stderr)
        return 64
    title = args[0]

    out = Output()
    lock = threading.Lock()
    done = threading.Event()
    found = threading.Event()

    def overtime():
        # Some libatspi calls are not bound by its time-out and block for as long as D-Bus lets
        # them (a web process that hangs does that).
        with lock:
            if done.is_set():
                return
            if not found.is_set():
                quit_with(3, f"gave up after {wait + READ_SECONDS:g} s: AT-SPI did not answer")
            for line in list(out.lines):
                print(line)
            quit_with(3, f"reading the window took over {READ_SECONDS:g} s; its text is cut short")

    watchdog = threading.Timer(wait + READ_SECONDS, overtime)
    watchdog.daemon = True
    watchdog.start()

    Atspi.set_timeout(CALL_TIMEOUT_MS, CALL_TIMEOUT_MS)
    if Atspi.init() not in (0, 1):
        quit_with(2, "AT-SPI is unavailable: it could not be initialised")
    desktop = Atspi.get_desktop(0)
    try:
        if desktop is None or ask(desktop.get_child_count, default=-1) < 0:
            quit_with(2, "AT-SPI is unavailable: the accessibility registry cannot be reached")
    except Unresponsive:
        quit_with(2, "AT-SPI is unavailable: the accessibility registry does not answer")

    started = time.monotonic()
    silent = set()
    truncated = unresponsive = False
    while True:
        try:
            window = find_window(desktop, title, silent)
        except Unresponsive:
            quit_with(2, "AT-SPI is unavailable: the accessibility registry does not answer")
        late = time.monotonic() - started >= wait
        if window is None and late:
            also = ""
            if silent:
                pids = ", ".join(str(pid) for pid in sorted(silent, key=str))
                also = f" (the applications with process ids {pids} did not answer)"
            quit_with(1, f"no window titled {title!r} within {wait:g} s{also}")
        if window is not None:
            if not found.is_set():
                # From here on, reading has READ_SECONDS (beside what is left of the wait,
                # for reading an empty window again), whatever the search took.
                left = max(0.0, wait - (time.monotonic() - started))
                with lock:
                    found.set()
                    watchdog.cancel()
                    watchdog = threading.Timer(READ_SECONDS + left, overtime)
                    watchdog.daemon = True
                    watchdog.start()
            Node.count = 0
            try:
                for child in Node(window).children:
                    if controls:
                        render_controls(child, out)
                    else:
                        render_block(child, out)
            except Truncated:
                truncated = True
            except Unresponsive:
                unresponsive = True
            out.flush()
            # A window shows its web content a moment after it appears: until then, or the
            # wait is over, an empty window is read again.
            if out.lines or truncated or unresponsive or late:
                break
        time.sleep(0.2)

    with lock:
        done.set()
        watchdog.cancel()
        for line in out.lines:
            print(line)
        sys.stdout.flush()
    if unresponsive:
        quit_with(3, f"the app did not answer within {CALL_TIMEOUT_MS} ms; its text is cut short")
    if truncated:
        print(f"atspi_text: the window has over {MAX_NODES} accessible nodes; read the first ones",
              file=sys.stderr)
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv))
