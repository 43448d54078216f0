import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DEFAULT_CHAT_TOPICS } from '../recordings/chat-option';
import { LIVE_CHANGE_FIELDS } from '../recordings/live-change';
import { OPTION_LIMITS, recordingOptionsSchema, startOptionsSchema } from '../recordings/options';
import { ID_PATTERNS, IDENTIFIERS } from '../recordings/identifiers';
import { RECORDING_STATUSES } from '../recordings/status';
import { qualityReportSchema } from '../recordings/quality';
import { MARKER_LABEL_MAX, SIDECAR_NAME, thumbnailSchema } from '../recordings/stored-data';
import { MAX_STREAMS, streamInfoSchema, streamsChangeSchema } from '../recordings/streams';

extendZodWithOpenApi(z);

/** Request and response schemas: they validate requests (strictly) and generate /api/openapi.json. */

export const CallId = z.string().regex(ID_PATTERNS.callId).openapi({ description: `Call id: ${IDENTIFIERS.callId.rule}`, example: 'call_123' });
export const UserId = z.string().regex(ID_PATTERNS.userId).openapi({ example: 'user_42' });
export const RecordingId = z.string().regex(ID_PATTERNS.recordingId).openapi({ format: 'uuid' });

export const CreateCallBody = z
  .strictObject({
    id: CallId.optional(),
    roomName: z.string().min(1).max(128).openapi({ description: 'The LiveKit room', example: 'standup-2025-06-01' }),
    hostId: UserId,
    participantIds: z.array(UserId).max(500).optional(),
  })
  .openapi('CreateCallBody');

export const AddParticipantsBody = z.strictObject({ userIds: z.array(UserId).min(1).max(500) }).openapi('AddParticipantsBody');

/** The domain's start options (recordings/options.ts: the one schema, with its limits), described for OpenAPI. */
const start = startOptionsSchema.shape;
export const StartRecordingBody = startOptionsSchema
  .extend({
    format: start.format.meta({ description: 'Output file format (default mp4); m4a and ogg are audio-only (the picture is dropped in post-processing)' }),
    fps: start.fps.meta({ type: 'integer', enum: [...OPTION_LIMITS.fps] }),
    layout: start.layout.meta({
      description: 'grid, speaker, single-speaker or presentation, each also with -light or -dark (dark is the default; single is single-speaker). grid is speaker while someone shares a screen; presentation puts the share on a wide stage with the cameras in a row beneath',
    }),
    theme: start.theme.meta({ description: 'dark (default) or light; must agree with a theme the layout name carries' }),
    width: start.width.meta({ minimum: OPTION_LIMITS.minSide, maximum: OPTION_LIMITS.maxSide, description: 'Even; width x height at most 1920x1080 pixels (1080x1920 portrait too)' }),
    height: start.height.meta({ minimum: OPTION_LIMITS.minSide, maximum: OPTION_LIMITS.maxSide }),
    customLayoutUrl: start.customLayoutUrl.meta({
      description: 'A custom layout page (an origin the operator allowed in RECORDER_CUSTOM_LAYOUT_ORIGINS), recorded by tab capture instead of a built-in layout',
    }),
    participants: start.participants.meta({
      description:
        'Who is seen and heard, by LiveKit identity: {"include": [...]} records only those (a consent list: whoever joins later unlisted is never recorded), {"exclude": [...]} everyone but those. Exactly one of the two (400 PARTICIPANTS_FILTER_INVALID); not with customLayoutUrl',
    }),
    audio: start.audio.meta({
      description:
        '"mixed" (default: everyone on both channels) or "dual-channel": the participants named by left (identities, and/or kind "agent": LiveKit agents) on the left channel, everyone else on the right, as Egress DUAL_CHANNEL_AGENT. "dual-channel" alone puts the agents on the left. Not with customLayoutUrl',
    }),
    overlays: start.overlays.meta({
      description:
        'Drawn over the built-in layout: textWatermark {text, position, size, colour, opacity}, imageWatermark {url, position, size, opacity}, nameLabels, clock {position, timeZone}, background {colour} or {imageUrl}. Images only from origins in RECORDER_ASSET_ORIGINS (else 400 ASSET_URL_NOT_ALLOWED); the worker fetches them, the page fetches nothing. In a PATCH the whole set is replaced ({} removes them all). Not with customLayoutUrl',
    }),
    outputs: start.outputs.meta({
      description:
        'What is made: [{"type": "hls", "segmentSeconds": 4, "live": true}, {"type": "rtmp", "url": "rtmp://host/app/key"}, {"type": "file"}]. Omitted: the file alone. hls: fMP4 segments of segmentSeconds (2 to 10, default 4) and a playlist stored under the recording\'s hls/ prefix as the call goes on (live, default true) or at its end; the file is made either way. rtmp (rtmp:// or rtmps://, FLV) and srt (srt://, MPEG-TS): the composite streamed live, H.264 and AAC, up to 3 streams of distinct URLs, only to hosts in RECORDER_STREAM_ALLOWED (else 400 STREAM_URL_NOT_ALLOWED; a URL that is not one of its type, STREAM_URL_INVALID; more than 3, TOO_MANY_STREAMS); a stream that drops is retried without stopping the file, its state in streams. A non-empty list, file and hls at most once, else 400 UNSUPPORTED_OPTION',
    }),
    chat: start.chat.meta({
      description: `Record the chat: data messages on these topics (true: ${DEFAULT_CHAT_TOPICS.join(' and ')}) from recorded participants, as chat.jsonl and chat.vtt beside the recording, on its clock. Off unless asked; not with customLayoutUrl (400 UNSUPPORTED_OPTION)`,
      anyOf: [{ type: 'boolean' }, { type: 'object', properties: { topics: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, minItems: 1, maxItems: 16 } }, required: ['topics'], additionalProperties: false }],
    }),
    tracks: start.tracks.meta({
      description:
        'Each recorded participant\'s own tracks as files beside the composite, under the recording\'s tracks/ prefix: "audio" (Opus in .ogg, one per audio track) or "audio+video" (and each camera, H.264 in .mp4 or VP8 in .webm, no sound). manifest.json lists each (kind "track": identity, name, media, key, size, durationMs, offsetMs: where its first sample lands on the composite\'s clock, offsetFrom: "audio" when measured from its sound, "resume-audio" when corrected by what the sound showed of the other audio tracks begun after the same resume, "page-clock" otherwise). Someone who leaves and comes back gets a new file. Not with customLayoutUrl (400 UNSUPPORTED_OPTION)',
      type: 'string',
      enum: ['audio', 'audio+video'],
    }),
    preset: start.preset.meta({
      description:
        "A layout preset (/api/layout-presets): its settings are this request's defaults, the request's own fields win (its size and its overlays each as a whole; a layout spelt with a theme replaces the preset's theme). 404 PRESET_NOT_FOUND. In a live change only its layout, theme and overlays apply: a preset whose width, height or fps differ from the recording's is 400 PRESET_CANVAS_MISMATCH",
    }),
  })
  .openapi('StartRecordingBody');

/** A live change: the start body's own fields, and the streams to add and remove (recordings/live-change.ts). */
export const UpdateRecordingBody = StartRecordingBody.pick(LIVE_CHANGE_FIELDS)
  .extend({
    streams: streamsChangeSchema.optional().openapi({
      description: `Stream outputs to add and remove while it records (Egress's UpdateStream): {"add": [{"type": "rtmp", "url": "rtmp://host/app/key"}], "remove": ["rtmp://host/app/key"]}. remove names a stream by its URL as given or as the view shows it (redacted): 400 STREAM_NOT_FOUND for one it does not have; add follows the start's rules (400 STREAM_URL_NOT_ALLOWED, STREAM_URL_INVALID, TOO_MANY_STREAMS past ${MAX_STREAMS}). A new stream starts from the latest keyframe`,
    }),
  })
  .openapi('UpdateRecordingBody');

export const StopRecordingBody = z.strictObject({ recordingId: RecordingId.optional() }).openapi('StopRecordingBody');

export const AddMarkerBody = z
  .strictObject({
    label: z.string().min(1).max(MARKER_LABEL_MAX).openapi({ description: `The chapter's title, 1 to ${MARKER_LABEL_MAX} characters`, example: 'Q&A' }),
    at: z.iso.datetime({ offset: true }).optional().openapi({ description: 'The instant it marks (ISO 8601, default now): within the recording, else 400 MARKER_OUT_OF_RANGE; inside a pause it lands at the seam' }),
    recordingId: RecordingId.optional().openapi({ description: "Default: the call's active recording" }),
  })
  .openapi('AddMarkerBody');

export const ListRecordingsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  includeDeleted: z.enum(['true', 'false']).optional(),
});

export const CallParams = z.strictObject({ callId: CallId });
export const RecordingParams = z.strictObject({ callId: CallId, recordingId: RecordingId });
export const ParticipantParams = z.strictObject({ callId: CallId, userId: UserId });

// ---- responses ----------------------------------------------------------------------

const Status = z.enum(RECORDING_STATUSES).openapi('RecordingStatus');

export const CallViewSchema = z
  .object({
    id: z.string(),
    roomName: z.string(),
    hostId: z.string(),
    participantIds: z.array(z.string()),
    isRecorded: z.boolean(),
    recordingStatus: Status.nullable(),
    recordingUrl: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('VideoCall');


export const DownloadUrlSchema = z
  .object({
    url: z.string().openapi({ description: 'A signed URL that reads the recording without other credentials' }),
    expiresAt: z.string().openapi({ description: 'When the URL stops working (RECORDING_SIGNED_URL_SECONDS after the request)' }),
  })
  .openapi('DownloadUrl');

export const RecordingViewSchema = z
  .object({
    id: z.string(),
    callId: z.string(),
    status: Status,
    format: z.string(),
    options: recordingOptionsSchema,
    requestedBy: z.string(),
    startedAt: z.string(),
    recordingAt: z.string().nullable().openapi({ description: "The file's time 0" }),
    pausedAt: z.string().nullable().openapi({ description: 'The latest pause (status PAUSED until it is resumed)' }),
    pausedMs: z.number().openapi({ description: 'Time paused in total: cut out of the file' }),
    markers: z
      .array(z.object({ label: z.string(), at: z.string(), offsetMs: z.number() }))
      .openapi({ description: "The host's markers: each at its instant and its place on the file's clock, chapters of the file" }),
    stoppingAt: z.string().nullable(),
    processingAt: z.string().nullable(),
    uploadingAt: z.string().nullable(),
    completedAt: z.string().nullable(),
    failedAt: z.string().nullable(),
    deletedAt: z.string().nullable(),
    stopReason: z.string().nullable(),
    workerId: z.string().nullable().openapi({ description: 'The recorder worker that ran it; null until a worker took it' }),
    durationMs: z.number().nullable(),
    fileSize: z.number().nullable(),
    storageKey: z.string().nullable().openapi({ description: "The video's key in the configured storage" }),
    url: z.string().nullable().openapi({ description: 'A signed URL of the video, made afresh for each read (valid RECORDING_SIGNED_URL_SECONDS)' }),
    thumbnails: z.array(thumbnailSchema),
    manifest: z
      .object({ key: z.string(), url: z.string().nullable() })
      .nullable()
      .openapi({ description: 'manifest.json, uploaded last: every file of the recording (video, thumbnails, poster) with its key, size, content type and time, and the quality report; url signed afresh for each read' }),
    hls: z
      .object({ playlistKey: z.string(), url: z.string().nullable() })
      .nullable()
      .openapi({
        description:
          'With an HLS output: the playlist in the storage (<recording prefix>hls/index.m3u8), listing only segments already stored, EXT-X-ENDLIST once the recording ended; url signed afresh for each read. The playlist names its segments relative to itself (see the README for what a player needs)',
      }),
    streams: z.array(streamInfoSchema).openapi({
      description:
        "Each stream output (rtmp, srt), as Egress's StreamInfo: url with its key redacted (the same in options.outputs), status STARTING, ACTIVE (the destination takes the stream), RETRYING (it dropped: retried after a backoff of 1 s doubled up to 30 s, the file going on), FAILED (given up: this FFmpeg cannot speak the protocol), ENDED (the recording ended or the stream was removed); retries, lastError, startedAt (first ACTIVE), lastRetryAt, endedAt",
    }),
    sidecars: z
      .array(z.object({ kind: z.string().regex(SIDECAR_NAME).openapi({ example: 'speakers.vtt' }), key: z.string(), url: z.string().nullable() }))
      .openapi({
        description:
          'Files made from the recording\'s timeline, beside it in the storage, on the file\'s clock (ms from its first frame, paused spans cut out): speakers.vtt (WebVTT, a <v Name> cue per turn) and speakers.json ([{identity, name, startMs, endMs}]) for every built-in layout recording (empty when nobody spoke), chat.jsonl and chat.vtt when the start asked for chat; url signed afresh for each read',
      }),
    tracks: z
      .array(z.object({ identity: z.string(), name: z.string(), media: z.enum(['audio', 'video']), key: z.string(), offsetMs: z.number(), durationMs: z.number(), url: z.string().nullable() }))
      .openapi({ description: "With the start option tracks: each participant's own track files (audio .ogg; camera .mp4 or .webm), offsetMs where the first sample lands on the recording's clock (manifest.json lists them too); url signed afresh for each read" }),
    error: z.object({ code: z.string(), message: z.string(), fault: z.string().nullable() }).nullable(),
    endedEarly: z.boolean().openapi({ description: 'Stopped by a fault (see error) but kept what it captured: the file is shorter than asked' }),
    quality: qualityReportSchema.nullable().openapi({
      description: "Once the file is finished: its frame rate, the time from the start request to its first frame, who was in the room but not yet on screen then, the HLS output's segments and any missing, the frames the file lacks, the chunks resent, missing or late, the A/V offset applied and measured per participant, the sound made up for late or lost packets per participant, and warnings (LOW_FPS, FROZEN_PICTURE, LATE_PARTICIPANTS, SLOW_START, HLS_SEGMENTS_MISSING, HLS_LIVE_INTERRUPTED, CHUNKS_MISSING, AV_OUT_OF_SYNC, SOUND_CONCEALED)",
    }),
  })
  .openapi('Recording');

export const MarkerSchema = z
  .object({ recordingId: z.string(), label: z.string(), at: z.string(), offsetMs: z.number().openapi({ description: "Its place on the file's clock, the pauses before it cut out" }) })
  .openapi('Marker');

export const StartedSchema = z.object({ id: z.string(), callId: z.string(), status: Status, startedAt: z.string() }).openapi('RecordingStarted');

export const envelope = <T extends z.ZodType>(data: T, name: string) =>
  z.object({ success: z.literal(true), data, message: z.string() }).openapi(name);

export const ErrorEnvelope = z
  .object({
    success: z.literal(false),
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional().openapi({ description: 'Only on a 4xx, when the refusal has them: e.g. { path } naming the field an overlay image refusal is about, or the validation issues.' }),
    }),
  })
  .openapi('Error');
