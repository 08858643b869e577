import { fireEvent, render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ToastView as ToastState } from '../../lib/bindings';
import { playChime } from '../../lib/chime';
import * as api from '../../test/api-mock';
import { bob, carol, dave, invitation } from '../../test/fixtures';
import { deferred, stubShell } from '../../test/shell';
import ToastView from './ToastView.svelte';

vi.mock('../../lib/api', () => import('../../test/api-mock'));
vi.mock('../../lib/chime', () => ({ playChime: vi.fn() }));

function state(more: Partial<ToastState> = {}): ToastState {
  return { invitations: [invitation('s-1', bob)], seconds: 10, sound: true, ...more };
}

/** Renders the toast over a mocked shell that first shows `initial`, and lets it load. */
async function open(initial: ToastState = state()) {
  const shell = stubShell();
  vi.mocked(api.toastState).mockResolvedValue(initial);
  const user = userEvent.setup({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  const view = render(ToastView);
  await vi.advanceTimersByTimeAsync(0);
  return { shell, user, view };
}

const cards = (): HTMLElement[] => screen.queryAllByTestId('toast-card');
const card = (id: string): HTMLElement => {
  const found = cards().find((c) => c.dataset['sessionId'] === id);
  if (found === undefined) throw new Error(`no card for ${id}`);
  return found;
};

beforeEach(() => {
  vi.useFakeTimers();
  vi.mocked(playChime).mockClear();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ToastView: cards', () => {
  it('shows a card for each invitation, the newest last: who, why, and the first message', async () => {
    await open(
      state({
        invitations: [
          invitation('s-1', bob),
          invitation('s-2', carol, { consultation: true, first_message: 'The caller wants a refund on order 1182.' }),
        ],
      }),
    );

    expect(cards().map((c) => c.dataset['sessionId'])).toEqual(['s-1', 's-2']);

    const first = card('s-1');
    expect(within(first).getByTestId('toast-from')).toHaveTextContent('Bob Stone');
    expect(first).toHaveTextContent('wants to send you an instant message');
    expect(within(first).queryByTestId('toast-message')).not.toBeInTheDocument();
    expect(first).toHaveAccessibleName('Bob Stone wants to send you an instant message');
    expect(screen.getByRole('region', { name: 'Bob Stone wants to send you an instant message' })).toBe(first);

    const second = card('s-2');
    expect(within(second).getByTestId('toast-from')).toHaveTextContent('Carol Diaz');
    expect(second).toHaveTextContent('asks to consult you about a customer');
    expect(within(second).getByTestId('toast-message')).toHaveTextContent(
      '“The caller wants a refund on order 1182.”',
    );
    expect(second).toHaveAccessibleDescription('“The caller wants a refund on order 1182.”');
    expect(within(second).getByTestId('toast-accept')).toHaveTextContent('Accept');
    expect(within(second).getByTestId('toast-reject')).toHaveTextContent('Reject');
    expect(within(second).getByTestId('toast-close')).toHaveAccessibleName('Dismiss');
  });

  it('replaces its cards with each state the shell sends', async () => {
    const { shell } = await open();
    shell.emitToast(state({ invitations: [invitation('s-1', bob), invitation('s-3', dave)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(cards().map((c) => c.dataset['sessionId'])).toEqual(['s-1', 's-3']);

    shell.emitToast(state({ invitations: [invitation('s-3', dave)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(cards().map((c) => c.dataset['sessionId'])).toEqual(['s-3']);

    shell.emitToast(state({ invitations: [] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(cards()).toHaveLength(0);
  });

  it('keeps a state the shell sent while it was reading the first one', async () => {
    const shell = stubShell();
    const first = deferred<ToastState>();
    vi.mocked(api.toastState).mockReturnValue(first.promise);
    render(ToastView);
    await vi.advanceTimersByTimeAsync(0);

    shell.emitToast(state({ invitations: [invitation('s-2', carol)] }));
    first.resolve(state({ invitations: [invitation('s-1', bob)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(cards().map((c) => c.dataset['sessionId'])).toEqual(['s-2']);
  });

  it('shows the first message as the text it is, never as markup', async () => {
    await open(state({ invitations: [invitation('s-1', bob, { first_message: '<img src=x onerror=alert(1)>' })] }));
    const message = within(card('s-1')).getByTestId('toast-message');
    expect(message).toHaveTextContent('<img src=x onerror=alert(1)>');
    expect(message.querySelector('img')).toBeNull();
    expect(card('s-1').querySelector('img')).toBeNull();
  });
});

describe('ToastView: answers', () => {
  it('accepts with the invitation id, the buttons disabled while it runs', async () => {
    const { user } = await open(state({ invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    const answer = deferred<void>();
    vi.mocked(api.toastAccept).mockReturnValue(answer.promise);

    await user.click(within(card('s-2')).getByTestId('toast-accept'));
    expect(api.toastAccept).toHaveBeenCalledExactlyOnceWith('s-2');
    const accept = within(card('s-2')).getByTestId('toast-accept');
    expect(accept).toBeDisabled();
    expect(accept).toHaveTextContent('Accepting…');
    expect(within(card('s-2')).getByTestId('toast-reject')).toBeDisabled();
    expect(within(card('s-1')).getByTestId('toast-accept')).toBeEnabled();

    answer.resolve();
    await vi.advanceTimersByTimeAsync(0);
    // Accepted: the card only waits for the shell to take it off.
    expect(within(card('s-2')).getByTestId('toast-accept')).toBeDisabled();
    expect(api.toastReject).not.toHaveBeenCalled();
  });

  it('rejects with the invitation id', async () => {
    const { user } = await open(state({ invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    await user.click(within(card('s-1')).getByTestId('toast-reject'));
    expect(api.toastReject).toHaveBeenCalledExactlyOnceWith('s-1');
    expect(api.toastAccept).not.toHaveBeenCalled();
  });

  it('says in the card why an answer failed, and lets the agent try again', async () => {
    const { user } = await open();
    vi.mocked(api.toastAccept).mockRejectedValueOnce({ message: 'This invitation is no longer waiting.' });

    await user.click(screen.getByTestId('toast-accept'));
    const error = await vi.waitFor(() => within(card('s-1')).getByTestId('toast-error'));
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('This invitation is no longer waiting.');
    expect(screen.getByTestId('toast-accept')).toBeEnabled();
    expect(screen.getByTestId('toast-reject')).toBeEnabled();

    await user.click(screen.getByTestId('toast-accept'));
    expect(api.toastAccept).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.queryByTestId('toast-error')).not.toBeInTheDocument();
  });

  it('is answered from the keyboard, and Escape dismisses', async () => {
    const { user } = await open();
    await user.tab();
    expect(screen.getByTestId('toast-close')).toHaveFocus();
    await user.tab();
    expect(screen.getByTestId('toast-accept')).toHaveFocus();
    await user.tab();
    expect(screen.getByTestId('toast-reject')).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(api.toastReject).toHaveBeenCalledExactlyOnceWith('s-1');
  });

  it('waits while the keyboard is in a card, and Escape there dismisses it', async () => {
    const { user } = await open(state({ seconds: 5 }));
    await user.tab();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.toastDismiss).not.toHaveBeenCalled();
    await user.keyboard('{Escape}');
    expect(api.toastDismiss).toHaveBeenCalledExactlyOnceWith('s-1');
  });
});

describe('ToastView: time on screen', () => {
  it('dismisses a card when its seconds are up', async () => {
    await open(state({ seconds: 10 }));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(api.toastDismiss).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(api.toastDismiss).toHaveBeenCalledExactlyOnceWith('s-1');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.toastDismiss).toHaveBeenCalledTimes(1);
  });

  it('counts each card from when it appeared', async () => {
    const { shell } = await open(state({ seconds: 5 }));
    await vi.advanceTimersByTimeAsync(3_000);
    shell.emitToast(state({ seconds: 5, invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(vi.mocked(api.toastDismiss).mock.calls).toEqual([['s-1']]);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(vi.mocked(api.toastDismiss).mock.calls).toEqual([['s-1']]);
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.mocked(api.toastDismiss).mock.calls).toEqual([['s-1'], ['s-2']]);
  });

  it('waits while the pointer rests on the card', async () => {
    await open(state({ seconds: 10 }));
    await vi.advanceTimersByTimeAsync(4_000);
    await fireEvent.pointerEnter(card('s-1'));
    expect(card('s-1')).toHaveAttribute('data-paused', 'true');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(api.toastDismiss).not.toHaveBeenCalled();

    await fireEvent.pointerLeave(card('s-1'));
    expect(card('s-1')).toHaveAttribute('data-paused', 'false');
    await vi.advanceTimersByTimeAsync(5_999);
    expect(api.toastDismiss).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(api.toastDismiss).toHaveBeenCalledExactlyOnceWith('s-1');
  });

  it('draws the time left as a bar that stops while paused', async () => {
    await open(state({ seconds: 10 }));
    const bar = (): HTMLElement => within(card('s-1')).getByTestId('toast-time');
    expect(bar()).toHaveClass('running');
    expect(bar().style.animationDuration).toBe('10000ms');

    await vi.advanceTimersByTimeAsync(2_500);
    await fireEvent.pointerEnter(card('s-1'));
    expect(bar()).not.toHaveClass('running');
    expect(bar().style.getPropertyValue('--from')).toBe('0.75');

    await fireEvent.pointerLeave(card('s-1'));
    expect(bar()).toHaveClass('running');
    expect(bar().style.animationDuration).toBe('7500ms');
  });

  it('dismisses at once with ×', async () => {
    const { user } = await open(state({ invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    const close = within(card('s-2')).getByTestId('toast-close');
    expect(close).toHaveAttribute('aria-label', 'Dismiss');
    await user.click(close);
    expect(api.toastDismiss).toHaveBeenCalledExactlyOnceWith('s-2');
  });

  it('follows a new time on screen, counting the time already spent', async () => {
    const { shell } = await open(state({ seconds: 10 }));
    await vi.advanceTimersByTimeAsync(4_000);
    shell.emitToast(state({ seconds: 30 }));
    await vi.advanceTimersByTimeAsync(25_999);
    expect(api.toastDismiss).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(api.toastDismiss).toHaveBeenCalledExactlyOnceWith('s-1');
  });
});

describe('ToastView: sound', () => {
  it('chimes once for each state that brings invitations not shown before', async () => {
    const { shell } = await open(state({ invitations: [invitation('s-1', bob)] }));
    expect(playChime).toHaveBeenCalledTimes(1);

    shell.emitToast(state({ invitations: [invitation('s-1', bob)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(playChime).toHaveBeenCalledTimes(1);

    shell.emitToast(state({ invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(playChime).toHaveBeenCalledTimes(2);

    shell.emitToast(state({ invitations: [invitation('s-2', carol)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(playChime).toHaveBeenCalledTimes(2);
  });

  it('stays silent when the agent turned sound off', async () => {
    const { shell } = await open(state({ sound: false }));
    shell.emitToast(state({ sound: false, invitations: [invitation('s-1', bob), invitation('s-2', carol)] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(cards()).toHaveLength(2);
    expect(playChime).not.toHaveBeenCalled();
  });
});
