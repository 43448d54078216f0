-- CreateEnum
CREATE TYPE "RecordingStatus" AS ENUM ('STARTING', 'RECORDING', 'STOPPING', 'PROCESSING', 'UPLOADING', 'COMPLETED', 'FAILED', 'DELETED');

-- CreateTable
CREATE TABLE "VideoCall" (
    "id" TEXT NOT NULL,
    "roomName" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "isRecorded" BOOLEAN NOT NULL DEFAULT false,
    "recordingStatus" "RecordingStatus",
    "recordingUrl" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VideoCall_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CallParticipant" (
    "callId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "addedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CallParticipant_pkey" PRIMARY KEY ("callId","userId")
);

-- CreateTable
CREATE TABLE "CallRecording" (
    "id" UUID NOT NULL,
    "callId" TEXT NOT NULL,
    "requestedBy" TEXT NOT NULL,
    "status" "RecordingStatus" NOT NULL DEFAULT 'STARTING',
    "options" JSONB NOT NULL,
    "outputFormat" TEXT NOT NULL,
    "maxDurationSeconds" INTEGER,
    "filePath" TEXT,
    "fileSize" BIGINT,
    "durationMs" INTEGER,
    "thumbnails" JSONB,
    "storageProvider" TEXT,
    "storageKey" TEXT,
    "storageUrl" TEXT,
    "stopReason" TEXT,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "errorFault" TEXT,
    "startingAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "recordingAt" TIMESTAMP(3),
    "stoppingAt" TIMESTAMP(3),
    "processingAt" TIMESTAMP(3),
    "uploadingAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "failedAt" TIMESTAMP(3),
    "deletedAt" TIMESTAMP(3),
    "workerId" TEXT,
    "idempotencyKey" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3),
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "CallRecording_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "VideoCall_roomName_key" ON "VideoCall"("roomName");

-- CreateIndex
CREATE INDEX "VideoCall_hostId_idx" ON "VideoCall"("hostId");

-- CreateIndex
CREATE INDEX "CallParticipant_userId_idx" ON "CallParticipant"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "CallRecording_callId_idempotencyKey_key" ON "CallRecording"("callId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "CallRecording_callId_startingAt_idx" ON "CallRecording"("callId", "startingAt");

-- CreateIndex
CREATE INDEX "CallRecording_status_nextAttemptAt_idx" ON "CallRecording"("status", "nextAttemptAt");

-- At most one active recording per call (hand-written: Prisma's schema cannot say it).
CREATE UNIQUE INDEX "CallRecording_one_active_per_call" ON "CallRecording"("callId")
    WHERE "status" IN ('STARTING', 'RECORDING', 'STOPPING');

-- AddForeignKey
ALTER TABLE "CallParticipant" ADD CONSTRAINT "CallParticipant_callId_fkey" FOREIGN KEY ("callId") REFERENCES "VideoCall"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CallRecording" ADD CONSTRAINT "CallRecording_callId_fkey" FOREIGN KEY ("callId") REFERENCES "VideoCall"("id") ON DELETE CASCADE ON UPDATE CASCADE;
