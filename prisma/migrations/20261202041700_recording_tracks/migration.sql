-- AlterTable: each participant's own tracks stored beside a recording (start option tracks), as [{identity, name, media, key, offsetMs, durationMs}]
ALTER TABLE "CallRecording" ADD COLUMN "tracks" JSONB;
