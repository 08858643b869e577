// Following one of the shell's events for as long as a component lives.

/**
 * Calls `listen(cb)` (one of the api's `on…` functions) and returns the function that stops
 * listening, usable as an `onMount` or `$effect` cleanup even before the shell has answered.
 */
export function subscribe<T>(
  listen: (cb: (payload: T) => void) => Promise<() => void>,
  cb: (payload: T) => void,
  what: string,
): () => void {
  let stopped = false;
  let unlisten: (() => void) | undefined;
  listen(cb).then(
    (stop) => {
      if (stopped) stop();
      else unlisten = stop;
    },
    (error: unknown) => console.error(`Cannot follow ${what}:`, error),
  );
  return () => {
    stopped = true;
    unlisten?.();
  };
}
