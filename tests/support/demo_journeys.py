#!/usr/bin/python3
"""The demo's first experience, walked through the real app as a person would: clicks and keys
(xdotool) on the windows it shows, and their text read back from the accessibility tree
(atspi_text.py), never a command of the app.

    demo_journeys.py HUB_ADDRESS HUDDLE_AGENT_BINARY DATA_DIR SCREENSHOT_DIR

1. Ana finds Ben Okafor in the Team Communicator, sends him an instant message from his
   action menu, sees him accept, writes, and reads his answer.
2. Chloé Martin (huddle-agent) invites Ana with a message: the invitation reaches Ana's app
   (its toast and its window); Ana accepts from the toast and reads Chloé's message.

Exits 0 when both journeys went through; otherwise 1, saying which step failed and what the
window showed, with a screenshot of the desktop.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import atspi_text  # noqa: E402  (beside this file)
from gi.repository import Atspi  # noqa: E402

MAIN = "Huddle"
TOAST = "Huddle — invitation"
DEADLINE = 30.0


class Failed(Exception):
    pass


def run(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def read(title):
    """The lines of text a window shows now ([] when it is not there)."""
    done = subprocess.run(
        ["/usr/bin/python3", atspi_text.__file__, "--wait", "2", title],
        capture_output=True,
        text=True,
    )
    return done.stdout.splitlines() if done.returncode == 0 else []


def until(what, check, title=None):
    """Waits until `check()` gives something true, and returns it."""
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    shown = "\n  ".join(read(title)) if title else ""
    raise Failed(f"{what} never happened" + (f"; the window showed:\n  {shown}" if shown else ""))


def shows(title, text):
    """Waits until the window titled `title` shows a line containing `text`."""
    return until(
        f"{title!r} showing {text!r}",
        lambda: any(text in line for line in read(title)),
        title,
    )


def window_id(title):
    """The X id of the managed window titled exactly `title`, or None."""
    found = run("xdotool", "search", "--name", f"^{title}$", check=False).stdout.split()
    for wid in found:
        state = run("xprop", "-id", wid, "WM_STATE", check=False).stdout
        if "Normal" in state or "Iconic" in state:
            return wid
    return None


def where(title, name):
    """The centre, on the screen, of the first showing object named `name` in the window."""
    Atspi.init()
    desktop = Atspi.get_desktop(0)
    for a in range(desktop.get_child_count()):
        app = desktop.get_child_at_index(a)
        if app is None:
            continue
        for w in range(app.get_child_count()):
            window = app.get_child_at_index(w)
            if window is None or window.get_name() != title:
                continue
            found = find(window, name, 0)
            if found is not None:
                return found
    return None


def find(acc, name, depth):
    if depth > 60:
        return None
    try:
        if acc.get_name() == name and acc.get_state_set().contains(Atspi.StateType.SHOWING):
            box = acc.get_extents(Atspi.CoordType.SCREEN)
            if box.width > 0 and box.height > 0:
                return (box.x + box.width // 2, box.y + box.height // 2)
        for i in range(acc.get_child_count()):
            child = acc.get_child_at_index(i)
            if child is not None:
                found = find(child, name, depth + 1)
                if found is not None:
                    return found
    except Exception:  # noqa: BLE001 (an object that went away meanwhile)
        return None
    return None


def click(title, name):
    """Clicks, with the mouse, the object named `name` in the window titled `title`."""
    x, y = until(f"{name!r} in {title!r}", lambda: where(title, name), title)
    run("xdotool", "mousemove", "--sync", str(x), str(y), "click", "1")


def keys(*names):
    run("xdotool", "key", "--delay", "60", *names)


def type_text(text):
    run("xdotool", "type", "--delay", "25", text)


def ana_sends_ben_an_im():
    shows(MAIN, "Ben Okafor, ben, Ready")
    click(MAIN, "Search colleagues")
    type_text("Ben")
    until("Ben alone in the Team Communicator", lambda: not any("Chloé" in l for l in read(MAIN)), MAIN)
    keys("Down", "Return")
    click(MAIN, "Send an Instant Message Ben Okafor")
    im = "Ben Okafor — Huddle"
    until(f"the window {im!r}", lambda: window_id(im))
    shows(im, "Connected")
    click(im, "Message to Ben Okafor")
    type_text("Hello Ben, can you check an order for me?")
    keys("Return")
    shows(im, "Hello Ben, can you check an order for me?")
    # The demo's colleague answers questions about orders from its script.
    shows(im, "it shipped yesterday")
    return im


def chloe_invites_ana(agent, hub, data):
    invite = subprocess.Popen(
        [agent, "--hub", hub, "--login", "chloe", "--data", data, "invite", "ana",
         "--message", "Ana, are you free to take a chat in French?"],
        env={**os.environ, "HUDDLE_PASSWORD": "huddle-demo"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        im = "Chloé Martin — Huddle"
        until(f"the waiting window {im!r}", lambda: window_id(im))
        shows(TOAST, "Chloé Martin")
        click(TOAST, "Accept")
        shows(im, "Connected")
        shows(im, "Ana, are you free to take a chat in French?")
        out, err = invite.communicate(timeout=DEADLINE)
        if invite.returncode != 0:
            raise Failed(f"Chloé's invitation failed: {err.strip() or out.strip()}")
        return im
    finally:
        if invite.poll() is None:
            invite.kill()


def main(argv):
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 64
    hub, agent, data, shots = argv[1:]
    os.makedirs(shots, exist_ok=True)
    try:
        ana_sends_ben_an_im()
        run("import", "-window", "root", os.path.join(shots, "demo-im.png"))
        chloe_invites_ana(agent, hub, data)
        run("import", "-window", "root", os.path.join(shots, "demo-invited.png"))
    except (Failed, subprocess.CalledProcessError, subprocess.TimeoutExpired) as failure:
        run("import", "-window", "root", os.path.join(shots, "demo-failure.png"), check=False)
        print(f"demo journeys: {failure}", file=sys.stderr)
        return 1
    print("demo journeys: Ana's IM to Ben was answered; Chloé's invitation reached Ana")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
