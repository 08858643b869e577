// The hub address and login of the last successful sign-in, to prefill the form.
// The password is never stored.

const KEY = 'huddle.lastSignIn';

export type Remembered = { hub: string; login: string };

export function loadRemembered(): Remembered {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw !== null) {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null) {
        const { hub, login } = value as Record<string, unknown>;
        return {
          hub: typeof hub === 'string' ? hub : '',
          login: typeof login === 'string' ? login : '',
        };
      }
    }
  } catch {
    // Storage unavailable or corrupt: start blank.
  }
  return { hub: '', login: '' };
}

export function saveRemembered(value: Remembered): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ hub: value.hub, login: value.login }));
  } catch {
    // Storage unavailable: nothing to remember then.
  }
}
