import { describe, expect, it } from 'vitest';
import { failureMessage } from './failure';

describe('failureMessage', () => {
  it('shows the message of a Failure', () => {
    expect(failureMessage({ message: 'This session has ended.' })).toBe('This session has ended.');
  });

  it('still says something for anything else', () => {
    expect(failureMessage('ipc closed')).toBe('Something went wrong: ipc closed');
    expect(failureMessage({ message: '' })).toBe('Something went wrong.');
    expect(failureMessage(new Error('boom'))).toBe('boom');
  });
});
