// What every popup does (a colleague's action menu, the main menu's popover dialog): focus on
// its first item, arrow keys between items, Escape to close, and a click elsewhere closes it.

import type { Attachment } from 'svelte/attachments';

export type MenuBehaviour = {
  /** Closes the menu; with `restoreFocus`, focus goes back to where the menu was opened. */
  close: (restoreFocus: boolean) => void;
  /** Elements outside the menu whose clicks must not close it (the button that toggles it). */
  keepOpenFor?: () => readonly (Element | null | undefined)[];
  /** What the arrow keys go through, when not a menu's items (a popover dialog's controls). */
  items?: string;
};

/**
 * What the arrow keys go through: items, checkable items, and the few form fields a menu may
 * hold (a select, whose value then changes by typing, Space or Alt+Down).
 */
const ITEMS = '[role="menuitem"], [role="menuitemcheckbox"], [role="menuitemradio"], select:not(:disabled)';

/** The controls of a popover dialog that holds buttons, switches and fields. */
export const DIALOG_CONTROLS = 'button, select:not(:disabled)';

export function menuBehaviour({ close, keepOpenFor = () => [], items: selector = ITEMS }: MenuBehaviour): Attachment<HTMLElement> {
  return (node) => {
    // Disabled items are marked with aria-disabled, never `disabled`: they stay focusable, so
    // focus is not lost when an item becomes disabled under it (the zoom at its limit).
    const items = (): HTMLElement[] => Array.from(node.querySelectorAll<HTMLElement>(selector));
    items()[0]?.focus();

    function onKeydown(event: KeyboardEvent): void {
      // Alt+Up and Alt+Down open a list box (a select among the items).
      if (event.altKey) return;
      const all = items();
      const current = all.findIndex((item) => item === document.activeElement);
      let next: number;
      switch (event.key) {
        case 'ArrowDown':
        case 'ArrowRight':
          next = (current + 1) % all.length;
          break;
        case 'ArrowUp':
        case 'ArrowLeft':
          next = current <= 0 ? all.length - 1 : current - 1;
          break;
        case 'Home':
          next = 0;
          break;
        case 'End':
          next = all.length - 1;
          break;
        case 'Escape':
          event.preventDefault();
          close(true);
          return;
        case 'Tab':
          // Focus goes back to the opener first, so Tab carries on from there.
          close(true);
          return;
        default:
          return;
      }
      event.preventDefault();
      all[next]?.focus();
    }

    function onPointerdown(event: PointerEvent): void {
      const target = event.target;
      if (!(target instanceof Node) || node.contains(target)) return;
      if (keepOpenFor().some((element) => element?.contains(target))) return;
      close(false);
    }

    node.addEventListener('keydown', onKeydown);
    document.addEventListener('pointerdown', onPointerdown, true);
    return () => {
      node.removeEventListener('keydown', onKeydown);
      document.removeEventListener('pointerdown', onPointerdown, true);
    };
  };
}
