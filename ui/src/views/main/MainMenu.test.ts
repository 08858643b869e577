import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import * as api from '../../test/api-mock';
import { stubShell } from '../../test/shell';
import MainMenu from './MainMenu.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));

async function setup(zoom = 100) {
  const shell = stubShell({ zoom });
  const onSignOut = vi.fn();
  const user = userEvent.setup();
  const view = render(MainMenu, { props: { signingOut: false, onSignOut } });
  const button = screen.getByTestId('main-menu');
  await user.click(button);
  await waitFor(() => expect(screen.getByTestId('zoom-level')).toHaveTextContent(`${zoom}%`));
  return { shell, user, view, onSignOut, button };
}

describe('MainMenu', () => {
  it('opens a menu with the text size and signing out', async () => {
    const { button } = await setup(120);
    expect(button).toHaveAttribute('aria-haspopup', 'menu');
    expect(button).toHaveAttribute('aria-expanded', 'true');
    const menu = screen.getByRole('menu', { name: 'Main menu' });
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
    expect(screen.getByRole('menu')).toBeInTheDocument();
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
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(button).toHaveFocus();
    expect(button).toHaveAttribute('aria-expanded', 'false');

    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-out')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-in')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('zoom-reset')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('sign-out')).toHaveFocus();
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
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
  });

  it('signs out', async () => {
    const { user, onSignOut, button } = await setup();
    await user.click(screen.getByTestId('sign-out'));
    expect(onSignOut).toHaveBeenCalledTimes(1);
    expect(screen.queryByRole('menu')).not.toBeInTheDocument();
    expect(button).toHaveFocus();
  });
});
