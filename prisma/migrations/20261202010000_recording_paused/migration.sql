-- AlterEnum: a recording the host paused (RECORDING <-> PAUSED); its spans cut out of the file
ALTER TYPE "RecordingStatus" ADD VALUE 'PAUSED' AFTER 'RECORDING';

-- AlterTable: the latest pause, every pause span ({pausedAt, resumedAt}) and the host's markers ({label, at})
ALTER TABLE "CallRecording" ADD COLUMN "pausedAt" TIMESTAMP(3),
ADD COLUMN "pauses" JSONB,
ADD COLUMN "markers" JSONB;
