// The words to show for a command that failed.

/** The message of a `Failure` the shell rejected with; anything else, as best it can be said. */
export function failureMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { message } = error as { message: unknown };
    if (typeof message === 'string' && message !== '') return message;
  }
  if (typeof error === 'string' && error !== '') return `Something went wrong: ${error}`;
  return 'Something went wrong.';
}
