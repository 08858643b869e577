// The API module against Tauri's own IPC mock: command names, arguments and payloads.
import type { Channel } from '@tauri-apps/api/core';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  currentConnection,
  listSessions,
  login,
  searchDirectory,
  setFavorite,
  setPresence,
  setZoom,
  showSession,
  signOut,
  startIm,
  zoom,
} from './api';
import type { ConnectionView, LoginFailure, PresenceChange, WindowEvent } from './bindings';
import { currentWindowKind } from './window';

const view: ConnectionView = {
  state: 'online',
  hub: 'hub.example.com:7878',
  agent: { id: 1, login: 'alice', display_name: 'Alice Martin' },
  presence: 'ready',
  notice: null,
};

afterEach(() => clearMocks());

describe('api', () => {
  it('calls the shell commands by name', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'sign_out' ? null : view;
    });

    const form = { hub: 'hub.example.com:7878', login: 'alice', password: 'secret', remember: true, unencrypted_ok: false, proxy: 'system' };
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
    const failure: LoginFailure = { message: 'Wrong password for alice.', field: 'password', unencrypted: false };
    mockIPC(() => Promise.reject(failure));
    await expect(login({ hub: 'h:1', login: 'alice', password: 'x', remember: false, unencrypted_ok: false, proxy: 'system' })).rejects.toEqual(failure);
  });

  it('turns any other rejection into a LoginFailure', async () => {
    mockIPC(() => Promise.reject('command login not found'));
    await expect(login({ hub: 'h:1', login: 'alice', password: 'x', remember: false, unencrypted_ok: false, proxy: 'system' })).rejects.toEqual({
      message: 'Signing in failed: command login not found',
      field: null,
      unencrypted: false,
    });
  });

  it('calls the main window commands by name, with their arguments', async () => {
    const calls: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args]);
      return cmd === 'set_zoom' ? 130 : cmd === 'zoom' ? 110 : [];
    });

    await setPresence('busy');
    await expect(searchDirectory('bo', 'favorites')).resolves.toEqual([]);
    await setFavorite(11, true);
    await startIm(11);
    await expect(listSessions()).resolves.toEqual([]);
    await showSession('s-1');
    await expect(zoom()).resolves.toBe(110);
    await expect(setZoom(130)).resolves.toBe(130);
    expect(calls).toEqual([
      ['set_presence', { presence: 'busy' }],
      ['search_directory', { query: 'bo', filter: 'favorites' }],
      ['set_favorite', { agentId: 11, favorite: true }],
      ['start_im', { agentId: 11 }],
      ['list_sessions', {}],
      ['show_session', { sessionId: 's-1' }],
      ['zoom', {}],
      ['set_zoom', { percent: 130 }],
    ]);
  });

  it('rejects with the Failure, or turns any other rejection into one', async () => {
    mockIPC(() => Promise.reject({ message: 'This colleague cannot receive instant messages.' }));
    await expect(startIm(3)).rejects.toEqual({ message: 'This colleague cannot receive instant messages.' });

    mockIPC(() => Promise.reject('command search_directory not allowed'));
    await expect(searchDirectory('', 'all')).rejects.toEqual({
      message: 'Something went wrong: command search_directory not allowed',
    });
  });

  /** A fresh copy of the module, as a newly loaded window has (its channel not opened yet). */
  async function freshApi(): Promise<typeof import('./api')> {
    vi.resetModules();
    return import('./api');
  }

  /** Mocks the shell's side of the window's channel; returns how to send on it. */
  function mockChannel(): { send: (event: string, payload: unknown) => void; opened: () => number } {
    let channel: Channel<WindowEvent> | null = null;
    let opened = 0;
    mockWindows('main');
    mockIPC((cmd, args) => {
      if (cmd === 'window_events') {
        channel = (args as { channel: Channel<WindowEvent> }).channel;
        opened += 1;
      }
      return null;
    });
    return {
      send: (event, payload) => channel?.onmessage({ event, payload }),
      opened: () => opened,
    };
  }

  it("delivers presence, session and zoom events on the window's own channel, opened once", async () => {
    const shell = mockChannel();
    const { onPresence, onSession, onZoom } = await freshApi();
    const seen: unknown[] = [];
    const stops = await Promise.all([
      onPresence((change) => seen.push(change)),
      onSession((session) => seen.push(session.id)),
      onZoom((percent) => seen.push(percent)),
    ]);
    expect(shell.opened()).toBe(1);

    const change: PresenceChange = { agent_id: 11, presence: 'away' };
    shell.send('presence', change);
    shell.send('session', { id: 's-1' });
    shell.send('zoom', 120);
    shell.send('message', { id: 'not listened to' });
    for (const stop of stops) stop();
    shell.send('zoom', 130);

    expect(seen).toEqual([change, 's-1', 120]);
  });

  it('delivers connection events until unsubscribed', async () => {
    const shell = mockChannel();
    const { onConnection } = await freshApi();
    const seen: ConnectionView[] = [];
    const stop = await onConnection((next) => seen.push(next));

    shell.send('connection', view);
    stop();
    shell.send('connection', { state: 'signed_out', last: null, notice: null });

    expect(seen).toEqual([view]);
  });

  it('takes no Tauri at all (a plain browser) for the main window', () => {
    mockWindows('main');
    Reflect.deleteProperty(window, '__TAURI_INTERNALS__');
    expect(currentWindowKind()).toBe('main');
  });
});
