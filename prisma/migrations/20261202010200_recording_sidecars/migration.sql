-- AlterTable: the sidecars stored beside a recording (speaker timeline, chat), as [{kind, key}]
ALTER TABLE "CallRecording" ADD COLUMN "sidecars" JSONB;
