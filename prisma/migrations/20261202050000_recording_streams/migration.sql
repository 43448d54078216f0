-- AlterTable: each stream output's state (rtmp, srt), as the view shows it: [{type, url (redacted), status, startedAt, endedAt, retries, lastError, lastRetryAt}]
ALTER TABLE "CallRecording" ADD COLUMN "streams" JSONB;
