import { render, screen, waitFor } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import MessageField from './MessageField.svelte';

function field(props: { enabled?: boolean; onSend?: (text: string) => Promise<void> } = {}) {
  const onSend = vi.fn(props.onSend ?? (() => Promise.resolve()));
  render(MessageField, {
    props: {
      enabled: props.enabled ?? true,
      placeholder: 'Message Bob Stone',
      label: 'Message to Bob Stone',
      scale: 1,
      onSend,
    },
  });
  return { onSend, input: screen.getByTestId('im-input') as HTMLTextAreaElement };
}

describe('MessageField', () => {
  it('sends with Enter and clears the field', async () => {
    const { onSend, input } = field();
    await userEvent.type(input, 'Hello{Enter}');
    expect(onSend).toHaveBeenCalledWith('Hello');
    await waitFor(() => expect(input).toHaveValue(''));
  });

  it('makes a new line with Shift+Enter, without sending', async () => {
    const { onSend, input } = field();
    await userEvent.type(input, 'one{Shift>}{Enter}{/Shift}two');
    expect(onSend).not.toHaveBeenCalled();
    expect(input).toHaveValue('one\ntwo');

    await userEvent.click(screen.getByTestId('im-send'));
    expect(onSend).toHaveBeenCalledWith('one\ntwo');
  });

  it('sends nothing blank, and trims what it sends', async () => {
    const { onSend, input } = field();
    await userEvent.type(input, '   {Enter}');
    await userEvent.click(screen.getByTestId('im-send'));
    expect(onSend).not.toHaveBeenCalled();

    await userEvent.type(input, 'hi  {Enter}');
    expect(onSend).toHaveBeenCalledWith('hi');
  });

  it('keeps the text and shows the failure when sending fails, until the text changes', async () => {
    const { input } = field({ onSend: () => Promise.reject({ message: 'The hub refused the message.' }) });
    await userEvent.type(input, 'Hello{Enter}');

    const error = await screen.findByTestId('im-error');
    expect(error).toHaveAttribute('role', 'alert');
    expect(error).toHaveTextContent('The hub refused the message.');
    expect(input).toHaveValue('Hello');
    expect(input).toHaveAttribute('aria-invalid', 'true');

    await userEvent.type(input, '!');
    expect(screen.queryByTestId('im-error')).not.toBeInTheDocument();
  });

  it('sends once while a send is under way', async () => {
    let finish: () => void = () => {};
    const { onSend, input } = field({ onSend: () => new Promise<void>((resolve) => (finish = resolve)) });
    await userEvent.type(input, 'Hello{Enter}');
    await userEvent.keyboard('{Enter}');
    expect(onSend).toHaveBeenCalledTimes(1);
    finish();
    await waitFor(() => expect(input).toHaveValue(''));
  });

  it('takes nothing when disabled', () => {
    const { input } = field({ enabled: false });
    expect(input).toBeDisabled();
    expect(screen.getByTestId('im-send')).toBeDisabled();
    expect(input).toHaveAccessibleName('Message to Bob Stone');
  });
});
