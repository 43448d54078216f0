/**
 * How every durable job is claimed: post-processing on its recording row, a webhook delivery
 * on its own row. Each row carries `attempts` and `nextAttemptAt` (the retry time after a
 * failed attempt, a lease while one runs). The due rows are read, then each is taken by a
 * conditional write on what was read, the lease with it: of two processes polling one table,
 * the second write matches nothing, so no attempt runs twice, and a process that dies simply
 * lets its lease run out. What a failed attempt does next is decided in
 * recordings/failure-policy.ts (README: "Durable jobs").
 */
export interface LeasedRow {
  id: string;
  attempts: number;
  nextAttemptAt: Date | null;
}

/** What a claim writes: one attempt more, and the lease. */
export interface LeaseClaim {
  attempts: number;
  nextAttemptAt: Date;
}

/**
 * Takes each of the `due` rows whose write (`take`: conditional on the row as read) still
 * matches, leased until `leaseUntil`; returns those taken, their `attempts` counting this one.
 */
export async function claimLeases<R extends LeasedRow>(due: R[], leaseUntil: Date, take: (row: R, claim: LeaseClaim) => Promise<boolean>): Promise<R[]> {
  const claimed: R[] = [];
  for (const row of due) {
    const claim = { attempts: row.attempts + 1, nextAttemptAt: leaseUntil };
    if (await take(row, claim)) claimed.push({ ...row, ...claim });
  }
  return claimed;
}
