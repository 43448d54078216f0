-- A paused recording is active: at most one active recording per call counts it. (A migration
-- of its own: PostgreSQL lets a new enum value be used only after the transaction adding it.)
DROP INDEX "CallRecording_one_active_per_call";
CREATE UNIQUE INDEX "CallRecording_one_active_per_call" ON "CallRecording"("callId")
    WHERE "status" IN ('STARTING', 'RECORDING', 'PAUSED', 'STOPPING');
