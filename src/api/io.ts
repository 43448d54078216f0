import type { Response } from 'express';
import type { z } from 'zod';
import { fromZod } from './errors';

/** What every route does with a request's parts and its answer: parsed strictly, sent in the envelope. */

/** `value` parsed with `schema`; a refusal names `where` (body, path, query). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, where);
  return r.data;
}

/** `{ success: true, data, message }` with `status`. */
export function send(res: Response, status: number, data: unknown, message: string): void {
  res.status(status).json({ success: true, data, message });
}
