// @ts-check
// Caught values as text: a `catch (err)` holds unknown, so these two are the only readers of it.

/**
 * A caught value's `code` (e.g. ECONNREFUSED), else its message, else its text.
 * @param {unknown} err
 */
export function errorCode(err) {
  if (err instanceof Error) return /** @type {NodeJS.ErrnoException} */ (err).code ?? err.message;
  return String(err);
}

/**
 * A caught value's stack (its message when it has none), else its text.
 * @param {unknown} err
 */
export function errorText(err) {
  if (err instanceof Error) return err.stack ?? err.message;
  return String(err);
}
