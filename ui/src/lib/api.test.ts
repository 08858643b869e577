// The API module against Tauri's own IPC mock: command names, arguments and payloads.
import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';
import { currentConnection, login, onConnection, signOut } from './api';
import type { ConnectionView, LoginFailure } from './bindings';
import { currentWindowKind } from './window';

const view: ConnectionView = {
  state: 'online',
  hub: 'hub.example.com:7878',
  agent: { id: 1, login: 'alice', display_name: 'Alice Martin' },
};

afterEach(() => clearMocks());

describe('api', () => {
  it('calls the shell commands by name', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'sign_out' ? null : view;
    });

    const form = { hub: 'hub.example.com:7878', login: 'alice', password: 'secret' };
    await expect(login(form)).resolves.toEqual(view);
    await expect(currentConnection()).resolves.toEqual(view);
    await expect(signOut()).resolves.toBeNull();
    expect(calls).toEqual([
      ['login', { form }],
      ['current_connection', {}],
      ['sign_out', {}],
    ]);
  });

  it('rejects a login with the LoginFailure', async () => {
    const failure: LoginFailure = { message: 'Wrong password for alice.', field: 'password' };
    mockIPC(() => Promise.reject(failure));
    await expect(login({ hub: 'h:1', login: 'alice', password: 'x' })).rejects.toEqual(failure);
  });

  it('turns any other rejection into a LoginFailure', async () => {
    mockIPC(() => Promise.reject('command login not found'));
    await expect(login({ hub: 'h:1', login: 'alice', password: 'x' })).rejects.toEqual({
      message: 'Signing in failed: command login not found',
      field: null,
    });
  });

  it('delivers connection events until unsubscribed', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const seen: ConnectionView[] = [];
    const stop = await onConnection((next) => seen.push(next));

    await emit('connection', view);
    stop();
    await emit('connection', { state: 'signed_out' });

    expect(seen).toEqual([view]);
  });

  it('knows the window kind from its label', () => {
    mockWindows('main');
    expect(currentWindowKind()).toBe('main');
  });

  it('takes an unknown window, or no Tauri at all, for the main window', () => {
    mockWindows('someday-42');
    expect(currentWindowKind()).toBe('main');
    Reflect.deleteProperty(window, '__TAURI_INTERNALS__');
    expect(currentWindowKind()).toBe('main');
  });
});
