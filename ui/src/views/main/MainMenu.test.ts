import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Preferences } from '../../lib/bindings';
import * as api from '../../test/api-mock';
import { DEFAULT_PREFERENCES, deferred, stubShell } from '../../test/shell';
import MainMenu from './MainMenu.svelte';
import { PreferencesState } from './preferences.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

async function setup(zoom = 100, stored: Partial<Preferences> = {}) {
  const shell = stubShell({ zoom, preferences: { ...DEFAULT_PREFERENCES, ...stored } });
  const onSignOut = vi.fn();
  const user = userEvent.setup();
  const preferences = new PreferencesState();
  onTestFinished(preferences.start());
  const view = render(MainMenu, { props: { signingOut: false, preferences, onSignOut } });
  const button = screen.getByTestId('main-menu');
  await user.click(button);
  await waitFor(() => expect(screen.getByTestId('zoom-level')).toHaveTextContent(`${zoom}%`));
  await waitFor(() => expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-disabled', 'false'));
  return { shell, user, view, onSignOut, button, preferences };
}

describe('MainMenu', () => {
  it('opens a menu with the text size and signing out', async () => {
    const { button } = await setup(120);
    expect(button).toHaveAttribute('aria-haspopup', 'dialog');
    expect(button).toHaveAttribute('aria-expanded', 'true');
    const menu = screen.getByRole('dialog', { name: 'Main menu' });
    expect(menu).toHaveTextContent('Text size');
    expect(screen.getByTestId('zoom-out')).toHaveAccessibleName('Smaller text');
    expect(screen.getByTestId('zoom-in')).toHaveAccessibleName('Larger text');
    expect(screen.getByTestId('zoom-reset')).toHaveTextContent('Reset');
    expect(screen.getByTestId('sign-out')).toHaveTextContent('Sign out');
  });

  it('changes the text size by steps of 10', async () => {
    const { user } = await setup(100);

    await user.click(screen.getByTestId('zoom-in'));
    expect(api.setZoom).toHaveBeenLastCalledWith(110);
    await waitFor(() => expect(screen.getByTestId('zoom-level')).toHaveTextContent('110%'));

    await user.click(screen.getByTestId('zoom-in'));
    expect(api.setZoom).toHaveBeenLastCalledWith(120);
    await user.click(screen.getByTestId('zoom-out'));
    expect(api.setZoom).toHaveBeenLastCalledWith(110);
    await user.click(screen.getByTestId('zoom-reset'));
    expect(api.setZoom).toHaveBeenLastCalledWith(100);
    await waitFor(() => expect(screen.getByTestId('zoom-level')).toHaveTextContent('100%'));
    expect(screen.getByRole('dialog', { name: 'Main menu' })).toBeInTheDocument();
  });

  it('stays between 70% and 200%', async () => {
    const { user } = await setup(195);
    await user.click(screen.getByTestId('zoom-in'));
    expect(api.setZoom).toHaveBeenLastCalledWith(200);
    await waitFor(() => expect(screen.getByTestId('zoom-in')).toHaveAttribute('aria-disabled', 'true'));
    await user.click(screen.getByTestId('zoom-in'));
    expect(api.setZoom).toHaveBeenCalledTimes(1);

    vi.mocked(api.setZoom).mockClear();
    for (let i = 0; i < 15; i++) await user.click(screen.getByTestId('zoom-out'));
    expect(vi.mocked(api.setZoom).mock.calls.map(([percent]) => percent)).toEqual([
      190, 180, 170, 160, 150, 140, 130, 120, 110, 100, 90, 80, 70,
    ]);
    expect(screen.getByTestId('zoom-out')).toHaveAttribute('aria-disabled', 'true');
    expect(screen.getByTestId('zoom-level')).toHaveTextContent('70%');
  });

  it('follows text size changes made elsewhere', async () => {
    const { shell } = await setup(100);
    shell.emitZoom(150);
    await waitFor(() => expect(screen.getByTestId('zoom-level')).toHaveTextContent('150%'));
  });

  it('goes back to the size it had when the change fails', async () => {
    const { user } = await setup(100);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.mocked(api.setZoom).mockRejectedValue('command set_zoom not allowed');

    await user.click(screen.getByTestId('zoom-in'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Huddle could not change the text size.');
    expect(screen.getByTestId('zoom-level')).toHaveTextContent('100%');
  });

  it('is driven by the keyboard and gives focus back when closed', async () => {
    const { user, button } = await setup(100);
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog', { name: 'Main menu' })).not.toBeInTheDocument();
    expect(button).toHaveFocus();
    expect(button).toHaveAttribute('aria-expanded', 'false');

    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-out')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-in')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-reset')).toHaveFocus();
    for (const testid of ['pref-dnd', 'pref-sound', 'pref-toast-seconds', 'pref-text-in-notifications', 'pref-keep-in-tray', 'pref-start-at-login', 'pref-spell-check', 'pref-spell-language', 'show-logs', 'sign-out']) {
      await user.keyboard('{ArrowDown}');
      expect(screen.getByTestId(testid)).toHaveFocus();
    }
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-out')).toHaveFocus();
    await user.keyboard('{ArrowUp}');
    expect(screen.getByTestId('sign-out')).toHaveFocus();
    await user.keyboard('{Home}{ArrowRight}{Enter}');
    expect(api.setZoom).toHaveBeenLastCalledWith(110);
    expect(screen.getByTestId('zoom-in')).toHaveFocus();
  });

  it('closes on a click elsewhere', async () => {
    const { user } = await setup();
    await user.click(document.body);
    expect(screen.queryByRole('dialog', { name: 'Main menu' })).not.toBeInTheDocument();
  });

  it('shows the logs folder, and says so when it cannot', async () => {
    const { user, button } = await setup();
    await user.click(screen.getByTestId('show-logs'));
    expect(api.showLogsFolder).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog', { name: 'Main menu' })).not.toBeInTheDocument();
    expect(button).toHaveFocus();

    api.showLogsFolder.mockRejectedValueOnce({ message: 'Huddle could not open its logs folder (/x): no file manager.' });
    await user.click(button);
    await user.click(screen.getByTestId('show-logs'));
    expect(await screen.findByRole('alert')).toHaveTextContent('no file manager');
    expect(screen.getByRole('dialog', { name: 'Main menu' })).toBeInTheDocument();
  });

  it('signs out', async () => {
    const { user, onSignOut, button } = await setup();
    await user.click(screen.getByTestId('sign-out'));
    expect(onSignOut).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('dialog', { name: 'Main menu' })).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  });
});

describe('MainMenu: notifications', () => {
  const ALL_ON: Preferences = {
    do_not_disturb: true,
    sound: true,
    toast_seconds: 30,
    keep_in_tray: true,
    text_in_notifications: true,
    start_at_login: false,
    system_do_not_disturb: false,
    spell_check: true,
    spell_language: '',
  };

  it('shows how invitations reach the agent, as the shell has it', async () => {
    await setup(100, {
      do_not_disturb: false,
      sound: true,
      toast_seconds: 20,
      keep_in_tray: false,
      text_in_notifications: true,
      start_at_login: false,
      system_do_not_disturb: false,
      spell_check: true,
      spell_language: '',
    });
    const section = screen.getByRole('group', { name: 'Notifications' });
    expect(section).toBeInTheDocument();

    const dnd = screen.getByTestId('pref-dnd');
    expect(dnd).toHaveAttribute('role', 'switch');
    expect(dnd).toHaveAccessibleName('Do not disturb');
    expect(dnd).toHaveAccessibleDescription('Invitations wait in the taskbar without a pop-up or sound');
    expect(dnd).toHaveAttribute('aria-checked', 'false');

    expect(screen.getByTestId('pref-sound')).toHaveAccessibleName('Play a sound');
    expect(screen.getByTestId('pref-sound')).toHaveAttribute('aria-checked', 'true');

    const seconds = screen.getByTestId('pref-toast-seconds');
    expect(seconds).toHaveAccessibleName('Pop-up stays for');
    expect(seconds).toHaveValue('20');
    expect(Array.from(seconds.querySelectorAll('option'), (o) => o.textContent)).toEqual([
      '5 seconds',
      '10 seconds',
      '20 seconds',
      '30 seconds',
      '60 seconds',
    ]);

    const tray = screen.getByTestId('pref-keep-in-tray');
    expect(tray).toHaveAccessibleName('Keep running in the tray when the window is closed');
    expect(tray).toHaveAttribute('aria-checked', 'false');

    const text = screen.getByTestId('pref-text-in-notifications');
    expect(text).toHaveAccessibleName('Show messages in notifications');
    expect(text).toHaveAccessibleDescription(
      'Off: notifications say who wrote, not what (lock screens, shared screens)',
    );
    expect(text).toHaveAttribute('aria-checked', 'true');
  });

  it('keeps what colleagues write off the notifications', async () => {
    const { user } = await setup();
    await user.click(screen.getByTestId('pref-text-in-notifications'));
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, text_in_notifications: false });
    await waitFor(() =>
      expect(screen.getByTestId('pref-text-in-notifications')).toHaveAttribute('aria-checked', 'false'),
    );
  });

  it('turns Do not disturb on and off, sending all the preferences', async () => {
    const { user } = await setup(100, { toast_seconds: 20 });
    await user.click(screen.getByTestId('pref-dnd'));
    expect(api.setPreferences).toHaveBeenLastCalledWith({
      do_not_disturb: true,
      sound: true,
      toast_seconds: 20,
      keep_in_tray: true,
      text_in_notifications: true,
      start_at_login: false,
      system_do_not_disturb: false,
      spell_check: true,
      spell_language: '',
    });
    expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByRole('dialog', { name: 'Main menu' })).toBeInTheDocument();

    // Space, as on any checkbox.
    screen.getByTestId('pref-dnd').focus();
    await user.keyboard(' ');
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, toast_seconds: 20 });
    await waitFor(() => expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'false'));
  });

  it('turns the sound off', async () => {
    const { user } = await setup();
    await user.click(screen.getByTestId('pref-sound'));
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, sound: false });
    await waitFor(() => expect(screen.getByTestId('pref-sound')).toHaveAttribute('aria-checked', 'false'));
  });

  it('changes how long the pop-up stays', async () => {
    const { user } = await setup();
    await user.selectOptions(screen.getByTestId('pref-toast-seconds'), '30 seconds');
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, toast_seconds: 30 });
    await waitFor(() => expect(screen.getByTestId('pref-toast-seconds')).toHaveValue('30'));
  });

  it('stops keeping Huddle in the tray', async () => {
    const { user } = await setup();
    await user.click(screen.getByTestId('pref-keep-in-tray'));
    expect(api.setPreferences).toHaveBeenLastCalledWith({ ...DEFAULT_PREFERENCES, keep_in_tray: false });
    await waitFor(() => expect(screen.getByTestId('pref-keep-in-tray')).toHaveAttribute('aria-checked', 'false'));
  });

  it('shows what the shell applied, even a time it chose itself', async () => {
    const { user } = await setup();
    vi.mocked(api.setPreferences).mockResolvedValueOnce({ ...DEFAULT_PREFERENCES, toast_seconds: 45 });
    await user.selectOptions(screen.getByTestId('pref-toast-seconds'), '60 seconds');
    await waitFor(() => expect(screen.getByTestId('pref-toast-seconds')).toHaveValue('45'));
    expect(screen.getByRole('option', { name: '45 seconds' })).toBeInTheDocument();
  });

  it('shows the change at once, and only the answer to the latest one', async () => {
    const { user } = await setup();
    const first = deferred<Preferences>();
    const second = deferred<Preferences>();
    vi.mocked(api.setPreferences).mockReturnValueOnce(first.promise).mockReturnValueOnce(second.promise);

    await user.click(screen.getByTestId('pref-dnd'));
    await user.click(screen.getByTestId('pref-sound'));
    expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'true');
    expect(screen.getByTestId('pref-sound')).toHaveAttribute('aria-checked', 'false');

    second.resolve({ ...DEFAULT_PREFERENCES, do_not_disturb: true, sound: false });
    first.resolve({ ...DEFAULT_PREFERENCES, do_not_disturb: true });
    await waitFor(() => expect(api.setPreferences).toHaveBeenCalledTimes(2));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.getByTestId('pref-sound')).toHaveAttribute('aria-checked', 'false');
  });

  it('chooses the spelling language among the dictionaries, and only while spelling is checked', async () => {
    const { user } = await setup();
    const language = await screen.findByTestId('pref-spell-language');
    expect(within(language).getAllByRole('option').map((o) => o.getAttribute('value'))).toEqual([
      '',
      'en_US',
      'fr_FR',
    ]);
    await user.selectOptions(language, 'fr_FR');
    expect(api.setPreferences).toHaveBeenLastCalledWith(expect.objectContaining({ spell_language: 'fr_FR' }));
    await user.click(screen.getByTestId('pref-spell-check'));
    expect(api.setPreferences).toHaveBeenLastCalledWith(expect.objectContaining({ spell_check: false }));
    expect(screen.getByTestId('pref-spell-language')).toBeDisabled();
  });

  it('goes back and says so when a change fails', async () => {
    const { user } = await setup();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.mocked(api.setPreferences).mockRejectedValueOnce('command set_preferences not allowed');

    await user.click(screen.getByTestId('pref-dnd'));
    expect(await screen.findByTestId('pref-failure')).toHaveTextContent('Huddle could not save this change.');
    expect(screen.getByTestId('pref-failure')).toHaveAttribute('role', 'alert');
    expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'false');

    await user.click(screen.getByTestId('pref-dnd'));
    await waitFor(() => expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'true'));
    expect(screen.queryByTestId('pref-failure')).not.toBeInTheDocument();
  });

  it('follows changes made elsewhere', async () => {
    const { shell } = await setup();
    shell.emitPreferences(ALL_ON);
    await waitFor(() => expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-checked', 'true'));
    expect(screen.getByTestId('pref-toast-seconds')).toHaveValue('30');
  });

  it('waits for the preferences before it lets them change, and says when it cannot read them', async () => {
    stubShell();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.mocked(api.preferences).mockRejectedValue('command preferences not allowed');
    const preferences = new PreferencesState();
    onTestFinished(preferences.start());
    const user = userEvent.setup();
    render(MainMenu, { props: { signingOut: false, preferences, onSignOut: vi.fn() } });
    await user.click(screen.getByTestId('main-menu'));

    expect(await screen.findByTestId('pref-failure')).toHaveTextContent(
      'Huddle could not read your notification settings.',
    );
    expect(screen.getByTestId('pref-dnd')).toHaveAttribute('aria-disabled', 'true');
    expect(screen.getByTestId('pref-toast-seconds')).toBeDisabled();
    await user.click(screen.getByTestId('pref-dnd'));
    expect(api.setPreferences).not.toHaveBeenCalled();
  });
});
