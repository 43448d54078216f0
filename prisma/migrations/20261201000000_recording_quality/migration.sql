-- AlterTable: the quality report of a recording (frame rate, start latency, late participants, warnings)
ALTER TABLE "CallRecording" ADD COLUMN "quality" JSONB;
