import { z } from 'zod';
import { RECORDING_END_REASONS } from '../recordings/contract';
import { recordingOptionsSchema } from '../recordings/options';
import type { RecordingRunner } from '../recordings/runner';

/**
 * What goes over the Redis control channel, for whichever worker owns the recording: a stop,
 * a live change (the recording's new options, whole, so a repeated message does no harm), or
 * a pause or resume (the state to be in, so a repeated one does no harm either).
 */
export const controlMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stop'), id: z.string(), reason: z.enum(RECORDING_END_REASONS) }),
  z.object({ type: z.literal('update'), id: z.string(), options: recordingOptionsSchema }),
  z.object({ type: z.literal('pause'), id: z.string(), paused: z.boolean() }),
]);
export type ControlMessage = z.infer<typeof controlMessage>;

/** Parses a message of the channel (throws on a malformed one) and applies it when `runner` runs that recording. */
export async function deliverControl(raw: string, runner: RecordingRunner | undefined): Promise<void> {
  const msg = controlMessage.parse(JSON.parse(raw));
  if (runner?.has(msg.id)) await applyControl(msg, runner);
}

/** What a control message asks of the runner that has its recording. */
export async function applyControl(msg: ControlMessage, runner: RecordingRunner): Promise<void> {
  if (msg.type === 'stop') await runner.stop(msg.id, msg.reason);
  else if (msg.type === 'update') await runner.update(msg.id, msg.options);
  else await runner.setPaused(msg.id, msg.paused);
}
