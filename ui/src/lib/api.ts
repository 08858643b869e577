// The only module that talks to the Tauri shell. Views import from here, and tests mock it.

import { invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import type { ConnectionView, LoginFailure, LoginForm } from './bindings';

/** Signs in. Resolves with the new connection; rejects with a {@link LoginFailure}. */
export async function login(form: LoginForm): Promise<ConnectionView> {
  try {
    return await invoke<ConnectionView>('login', { form });
  } catch (error) {
    throw asLoginFailure(error);
  }
}

/** Where the agent stands with the hub right now. */
export function currentConnection(): Promise<ConnectionView> {
  return invoke<ConnectionView>('current_connection');
}

/** Signs out and forgets the session. */
export function signOut(): Promise<void> {
  return invoke<void>('sign_out');
}

/** Calls `cb` whenever the connection changes. Resolves with a function that stops listening. */
export function onConnection(cb: (view: ConnectionView) => void): Promise<() => void> {
  return listen<ConnectionView>('connection', (event) => cb(event.payload));
}

/** The shell rejects with a `LoginFailure`; anything else (an IPC error string) becomes one. */
function asLoginFailure(error: unknown): LoginFailure {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message, field } = error as { message: unknown; field?: unknown };
    if (typeof message === 'string') {
      const known = field === 'hub' || field === 'login' || field === 'password';
      return { message, field: known ? field : null };
    }
  }
  return { message: `Signing in failed: ${String(error)}`, field: null };
}
