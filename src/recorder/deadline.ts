/** A promise with its resolve and reject in hand. */
export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** `promise`, or the error `late()` gives once `ms` passed; the timer never outlives the race. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, late: () => Error | Promise<Error>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => void Promise.resolve(late()).then(reject, reject), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
