/** The generated Prisma client, re-exported so the rest of the code has one import path. */
export { PrismaClient, Prisma, RecordingStatus } from '../../generated/prisma/client';
export type { CallRecording, VideoCall, CallParticipant, LayoutPreset } from '../../generated/prisma/client';
