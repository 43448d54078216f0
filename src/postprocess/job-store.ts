import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Fault } from '../errors';
import type { PostprocessFormat } from './formats';
import type { PostprocessInput, PostprocessResult } from './processor';

export type PostprocessJobState = 'PENDING' | 'PROCESSING' | 'UPLOADING' | 'COMPLETED' | 'FAILED';
export const UNFINISHED_STATES: readonly PostprocessJobState[] = ['PENDING', 'PROCESSING', 'UPLOADING'];

export interface PostprocessJob {
  recordingId: string;
  callId: string;
  inputPath: string;
  format: PostprocessFormat;
  state: PostprocessJobState;
  /** Attempts started so far. */
  attempts: number;
  error?: { code: string; message: string; fault: Fault };
  result?: PostprocessResult;
  createdAt: Date;
  updatedAt: Date;
}

export type PostprocessJobPatch = Partial<Pick<PostprocessJob, 'state' | 'attempts' | 'error' | 'result'>>;

/**
 * Where the state of post-processing jobs is kept, so a restarted process can resume
 * what was pending. The service implements it on its database (Prisma); the memory and
 * file versions below serve embedded mode and tests.
 */
export interface PostprocessJobStore {
  /** Inserts the job as PENDING, or resets an existing one with the same recordingId to PENDING. */
  create(input: PostprocessInput): Promise<PostprocessJob>;
  update(recordingId: string, patch: PostprocessJobPatch): Promise<void>;
  get(recordingId: string): Promise<PostprocessJob | null>;
  /** Jobs in PENDING, PROCESSING or UPLOADING, oldest first. */
  listUnfinished(): Promise<PostprocessJob[]>;
}

function fresh(input: PostprocessInput, prev?: PostprocessJob): PostprocessJob {
  const now = new Date();
  return {
    recordingId: input.recordingId,
    callId: input.callId,
    inputPath: input.inputPath,
    format: input.format,
    state: 'PENDING',
    attempts: prev?.attempts ?? 0,
    createdAt: prev?.createdAt ?? now,
    updatedAt: now,
  };
}

export class MemoryJobStore implements PostprocessJobStore {
  protected readonly jobs = new Map<string, PostprocessJob>();

  async create(input: PostprocessInput): Promise<PostprocessJob> {
    const job = fresh(input, this.jobs.get(input.recordingId));
    this.jobs.set(job.recordingId, job);
    await this.persist();
    return { ...job };
  }

  async update(recordingId: string, patch: PostprocessJobPatch): Promise<void> {
    const job = this.jobs.get(recordingId);
    if (!job) return;
    Object.assign(job, patch, { updatedAt: new Date() });
    if (patch.state && patch.state !== 'FAILED' && !('error' in patch)) delete job.error;
    await this.persist();
  }

  async get(recordingId: string): Promise<PostprocessJob | null> {
    const j = this.jobs.get(recordingId);
    return j ? { ...j } : null;
  }

  async listUnfinished(): Promise<PostprocessJob[]> {
    return [...this.jobs.values()]
      .filter((j) => UNFINISHED_STATES.includes(j.state))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((j) => ({ ...j }));
  }

  protected async persist(): Promise<void> {}
}

/** A MemoryJobStore saved to one JSON file after each change (atomic rename): survives restarts. */
export class FileJobStore extends MemoryJobStore {
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {
    super();
  }

  static async open(file: string): Promise<FileJobStore> {
    const store = new FileJobStore(file);
    try {
      const rows = JSON.parse(await fsp.readFile(file, 'utf8')) as Array<PostprocessJob & { createdAt: string; updatedAt: string }>;
      for (const r of rows) store.jobs.set(r.recordingId, { ...r, createdAt: new Date(r.createdAt), updatedAt: new Date(r.updatedAt) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return store;
  }

  protected override async persist(): Promise<void> {
    const snapshot = JSON.stringify([...this.jobs.values()]);
    this.writing = this.writing.then(async () => {
      await fsp.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      await fsp.writeFile(tmp, snapshot);
      await fsp.rename(tmp, this.file);
    });
    await this.writing;
  }
}
