import type { PostprocessJob, PostprocessPort, PostprocessSink } from './ports';

/**
 * The smallest post-processor: no thumbnails, no upload; the file stays where the recorder
 * wrote it (storage provider 'local', key = its path). For setups without src/postprocess.
 */
export class KeepLocalFile implements PostprocessPort {
  constructor(private readonly urlFor?: (job: PostprocessJob) => string | undefined) {}

  enqueue(job: PostprocessJob, sink: PostprocessSink): void {
    setImmediate(() => {
      const url = this.urlFor?.(job);
      void sink
        .completed(job.recordingId, { storage: { provider: 'local', key: job.filePath, ...(url ? { url } : {}) } })
        .catch((err: unknown) => sink.failed(job.recordingId, err).catch(() => undefined));
    });
  }
}
