import { z } from 'zod';
import { AppError } from '../errors';
import { IDENTIFIERS, ID_PATTERNS } from './identifiers';

/**
 * Who is recorded: `{ include: [...] }` (a consent list: only those, whoever joins later) or
 * `{ exclude: [...] }` (everyone but those), by LiveKit identity. Exactly one of the two.
 */
export const identities = z.array(z.string().regex(ID_PATTERNS.userId, { error: `an identity must be ${IDENTIFIERS.userId.rule}` })).max(500);

/** What a caller may send (the start and PATCH bodies); exactly-one is checked by checkParticipantsFilter for its own code. */
export const participantsFilterInput = z.strictObject({ include: identities.optional(), exclude: identities.optional() });

/** As stored with the recording's options and sent to the recorder. */
export const participantsFilterSchema = z.union([z.strictObject({ include: identities }), z.strictObject({ exclude: identities })]);
export type ParticipantsFilter = z.infer<typeof participantsFilterSchema>;

/** PARTICIPANTS_FILTER_INVALID unless exactly one of include and exclude is given. */
export function checkParticipantsFilter(input: z.infer<typeof participantsFilterInput>): ParticipantsFilter {
  if (input.include !== undefined && input.exclude === undefined) return { include: input.include };
  if (input.exclude !== undefined && input.include === undefined) return { exclude: input.exclude };
  throw new AppError('PARTICIPANTS_FILTER_INVALID', 'participants takes exactly one of include (only those are recorded) and exclude (all but those)');
}
