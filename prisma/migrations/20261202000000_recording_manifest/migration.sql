-- AlterTable: the storage key of a recording's manifest.json (its files, their sizes and offsets, the quality report)
ALTER TABLE "CallRecording" ADD COLUMN "manifestKey" TEXT;
