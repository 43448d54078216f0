import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DEFAULT_CHAT_TOPICS } from '../recordings/chat-option';
import { LIVE_CHANGE_FIELDS } from '../recordings/live-change';
import { OPTION_LIMITS, recordingOptionsSchema, startOptionsSchema } from '../recordings/options';
import { ID_PATTERNS, IDENTIFIERS } from '../recordings/identifiers';
import { RECORDING_STATUSES } from '../recordings/status';
import { qualityReportSchema } from '../recordings/quality';
import { MARKER_LABEL_MAX, SIDECAR_NAME, thumbnailSchema } from '../recordings/stored-data';
import { registerPresetPaths } from './preset-schemas';
import { registerStudioPaths } from './studio-schemas';

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
        'What is made: [{"type": "hls", "segmentSeconds": 4, "live": true}, {"type": "file"}]. Omitted: the file alone. hls: fMP4 segments of segmentSeconds (2 to 10, default 4) and a playlist stored under the recording\'s hls/ prefix as the call goes on (live, default true) or at its end; the file is made either way. A non-empty list of distinct types, else 400 UNSUPPORTED_OPTION',
    }),
    chat: start.chat.meta({
      description: `Record the chat: data messages on these topics (true: ${DEFAULT_CHAT_TOPICS.join(' and ')}) from recorded participants, as chat.jsonl and chat.vtt beside the recording, on its clock. Off unless asked; not with customLayoutUrl (400 UNSUPPORTED_OPTION)`,
      anyOf: [{ type: 'boolean' }, { type: 'object', properties: { topics: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 128 }, minItems: 1, maxItems: 16 } }, required: ['topics'], additionalProperties: false }],
    }),
    preset: start.preset.meta({
      description:
        "A layout preset (/api/layout-presets): its settings are this request's defaults, the request's own fields win (its size and its overlays each as a whole; a layout spelt with a theme replaces the preset's theme). 404 PRESET_NOT_FOUND. In a live change only its layout, theme and overlays apply: a preset whose width, height or fps differ from the recording's is 400 PRESET_CANVAS_MISMATCH",
    }),
  })
  .openapi('StartRecordingBody');

/** A live change: the start body's own fields (recordings/live-change.ts). */
export const UpdateRecordingBody = StartRecordingBody.pick(LIVE_CHANGE_FIELDS).openapi('UpdateRecordingBody');

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
    sidecars: z
      .array(z.object({ kind: z.string().regex(SIDECAR_NAME).openapi({ example: 'speakers.vtt' }), key: z.string(), url: z.string().nullable() }))
      .openapi({
        description:
          'Files made from the recording\'s timeline, beside it in the storage, on the file\'s clock (ms from its first frame, paused spans cut out): speakers.vtt (WebVTT, a <v Name> cue per turn) and speakers.json ([{identity, name, startMs, endMs}]) for every built-in layout recording (empty when nobody spoke), chat.jsonl and chat.vtt when the start asked for chat; url signed afresh for each read',
      }),
    error: z.object({ code: z.string(), message: z.string(), fault: z.string().nullable() }).nullable(),
    endedEarly: z.boolean().openapi({ description: 'Stopped by a fault (see error) but kept what it captured: the file is shorter than asked' }),
    quality: qualityReportSchema.nullable().openapi({
      description: "Once the file is finished: its frame rate, the time from the start request to its first frame, who was in the room but not yet on screen then, the HLS output's segments and any missing, and warnings (LOW_FPS, LATE_PARTICIPANTS, SLOW_START, HLS_SEGMENTS_MISSING)",
    }),
  })
  .openapi('Recording');

export const MarkerSchema = z
  .object({ recordingId: z.string(), label: z.string(), at: z.string(), offsetMs: z.number().openapi({ description: "Its place on the file's clock, the pauses before it cut out" }) })
  .openapi('Marker');

export const StartedSchema = z.object({ id: z.string(), callId: z.string(), status: Status, startedAt: z.string() }).openapi('RecordingStarted');

const envelope = <T extends z.ZodType>(data: T, name: string) =>
  z.object({ success: z.literal(true), data, message: z.string() }).openapi(name);

export const ErrorEnvelope = z
  .object({ success: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error');

// ---- OpenAPI document -------------------------------------------------------------------

export function buildOpenApiDocument(): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'A user JWT (sub = user id; room/rooms = the rooms it may create calls for), or a service API key acting for X-User-Id',
  });
  const apiKey = registry.registerComponent('securitySchemes', 'apiKey', { type: 'apiKey', in: 'header', name: 'X-Api-Key' });
  const security = [{ [bearer.name]: [] }, { [apiKey.name]: [] }];
  const UserHeader = z.object({ 'x-user-id': UserId.optional().openapi({ description: 'The user a service key acts for' }) });
  const errors = Object.fromEntries(
    [
      [400, 'Invalid request (VALIDATION_ERROR, UNSUPPORTED_OPTION, INVALID_ROOM_NAME)'],
      [401, 'Missing, expired or forged credentials'],
      [403, 'Not allowed (only the host controls recordings)'],
      [404, 'No such call or recording, or not visible to the caller'],
      [409, 'Conflict (RECORDING_ALREADY_ACTIVE, RECORDING_NOT_ACTIVE, RECORDING_NOT_LIVE, RECORDING_ALREADY_PAUSED, RECORDING_NOT_PAUSED, CONFLICT)'],
      [413, 'Body larger than 64 KiB'],
    ].map(([code, description]) => [code, { description: description as string, content: { 'application/json': { schema: ErrorEnvelope } } }]),
  );
  const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
  const body = <T extends z.ZodType>(schema: T, required = true) => ({ body: { required, content: { 'application/json': { schema } } } });

  registry.registerPath({
    method: 'post',
    path: '/api/video-calls',
    summary: 'Create a video call',
    description: 'A service key may create a call for any room; a user only a call it hosts, for a room its token names (claim room or rooms, * for any), else 403. A taken id or room is 409 only for a service key or a member of the existing call; others get the same 403.',
    security,
    request: { headers: UserHeader, ...body(CreateCallBody) },
    responses: { 201: json(envelope(CallViewSchema, 'CallResponse'), 'Created'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/video-calls/{callId}',
    summary: 'A call (host and participants)',
    security,
    request: { params: CallParams, headers: UserHeader },
    responses: { 200: json(envelope(CallViewSchema, 'CallResponse'), 'The call'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/participants',
    summary: 'Add participants (host)',
    security,
    request: { params: CallParams, headers: UserHeader, ...body(AddParticipantsBody) },
    responses: { 200: json(envelope(CallViewSchema, 'CallResponse'), 'The call'), ...errors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/video-calls/{callId}/participants/{userId}',
    summary: 'Remove a participant (host)',
    security,
    request: { params: ParticipantParams, headers: UserHeader },
    responses: { 200: json(envelope(CallViewSchema, 'CallResponse'), 'The call'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/start',
    summary: 'Start recording the call (host)',
    security,
    request: {
      params: CallParams,
      headers: UserHeader.extend({ 'idempotency-key': z.string().max(255).optional() }),
      ...body(StartRecordingBody, false),
    },
    responses: {
      201: json(envelope(StartedSchema, 'StartResponse'), 'Recording starting'),
      200: json(envelope(StartedSchema, 'StartResponse'), 'Replay of an earlier start with the same Idempotency-Key'),
      503: json(ErrorEnvelope, 'NO_CAPACITY'),
      507: json(ErrorEnvelope, 'DISK_FULL: not enough free disk space on the recorder (RECORDING_MIN_FREE_DISK_MB); nothing was started'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/stop',
    summary: 'Stop the active (or the given) recording (host)',
    security,
    request: { params: CallParams, headers: UserHeader, ...body(StopRecordingBody, false) },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'Stopping'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/pause',
    summary: 'Pause the active (or the given) recording (host)',
    description: 'Nothing is recorded until it is resumed, and the file has the paused span cut out (status PAUSED, pausedMs in total; the maximum duration and the idle-room stop count recorded time). 409 RECORDING_ALREADY_PAUSED, RECORDING_NOT_LIVE unless it is RECORDING.',
    security,
    request: { params: CallParams, headers: UserHeader, ...body(StopRecordingBody, false) },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'Paused'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/resume',
    summary: 'Resume a paused recording (host)',
    description: 'The file goes on from where it paused, with a chapter at the seam. 409 RECORDING_NOT_PAUSED unless it is PAUSED.',
    security,
    request: { params: CallParams, headers: UserHeader, ...body(StopRecordingBody, false) },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'Recording again'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/markers',
    summary: 'Mark an instant of the active (or the given) recording: a chapter of the file (host)',
    description: 'Chapters of the delivered file (and chapters.json) are one at 0, one at each resume and one per marker. 400 MARKER_OUT_OF_RANGE, VALIDATION_ERROR (label 1 to 200 characters); 409 RECORDING_NOT_LIVE unless it is RECORDING or PAUSED, TOO_MANY_MARKERS.',
    security,
    request: { params: CallParams, headers: UserHeader, ...body(AddMarkerBody, true) },
    responses: { 201: json(envelope(MarkerSchema, 'MarkerResponse'), 'The marker, with its place on the file'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/video-calls/{callId}/recording/{recordingId}',
    summary: 'A recording (host and participants)',
    security,
    request: { params: RecordingParams, headers: UserHeader },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'The recording'), ...errors },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/video-calls/{callId}/recording/{recordingId}',
    summary: 'Change a recording while it records: layout, theme, who is recorded (host)',
    description:
      'The file shows the change within a second of the response. 400 CHANGE_EMPTY (nothing named), VALIDATION_ERROR (an unknown field), PARTICIPANTS_FILTER_INVALID (not exactly one of include and exclude), PRESET_CANVAS_MISMATCH (a preset of another size or fps); 404 PRESET_NOT_FOUND; 409 RECORDING_NOT_LIVE unless the recording is RECORDING. A refused change changes nothing.',
    security,
    request: { params: RecordingParams, headers: UserHeader, ...body(UpdateRecordingBody, true) },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'The recording with its new options'), ...errors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/video-calls/{callId}/recording/{recordingId}',
    summary: 'Delete a finished recording and its stored files (host)',
    security,
    request: { params: RecordingParams, headers: UserHeader },
    responses: { 200: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'Deleted'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/video-calls/{callId}/recording/{recordingId}/retry',
    summary: 'Post-process a FAILED recording again (host)',
    description: 'Only a FAILED recording whose recorded file is still on the recorder: 409 RECORDING_NOT_RETRYABLE (not FAILED) or RECORDING_FILE_MISSING (file gone).',
    security,
    request: { params: RecordingParams, headers: UserHeader },
    responses: { 202: json(envelope(RecordingViewSchema, 'RecordingResponse'), 'Back in post-processing (status PROCESSING)'), ...errors },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/video-calls/{callId}/recording/{recordingId}/download',
    summary: 'Download a COMPLETED recording (host and participants)',
    description:
      'Cloud storage (aws, gcp): 200 with JSON { url, expiresAt }, a short-lived signed URL to fetch the file from the bucket (no redirect). ' +
      'Local storage: the file itself, with Range support (one byte range: 206 with Content-Range; 416 for a range outside the file). ' +
      '409 RECORDING_NOT_READY while the recording is not COMPLETED.',
    security,
    request: { params: RecordingParams, headers: UserHeader.extend({ range: z.string().optional().openapi({ example: 'bytes=0-1023' }) }) },
    responses: {
      200: {
        description: 'Signed URL (cloud storage) or the whole file (local storage)',
        content: {
          'application/json': { schema: envelope(DownloadUrlSchema, 'DownloadUrlResponse') },
          'video/mp4': { schema: z.string().openapi({ format: 'binary' }) },
          'video/webm': { schema: z.string().openapi({ format: 'binary' }) },
          'video/x-matroska': { schema: z.string().openapi({ format: 'binary' }) },
          'audio/mp4': { schema: z.string().openapi({ format: 'binary' }) },
          'audio/ogg': { schema: z.string().openapi({ format: 'binary' }) },
        },
      },
      206: {
        description: 'Part of the file (local storage, Range request)',
        headers: { 'Content-Range': { schema: { type: 'string' }, description: 'bytes start-end/size' } },
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      416: json(ErrorEnvelope, 'RANGE_NOT_SATISFIABLE (Content-Range: bytes */size)'),
      ...errors,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/video-calls/{callId}/recordings',
    summary: "The call's recordings, newest first",
    security,
    request: { params: CallParams, headers: UserHeader, query: ListRecordingsQuery },
    responses: { 200: json(envelope(z.array(RecordingViewSchema), 'RecordingListResponse'), 'Recordings'), ...errors },
  });
  registry.registerPath({
    method: 'post',
    path: '/api/livekit/webhook',
    summary: 'LiveKit webhooks (room_finished, participant_left), signed by LiveKit',
    request: { body: { content: { 'application/webhook+json': { schema: z.object({ event: z.string() }).passthrough() } } } },
    responses: { 200: { description: 'Accepted' }, 401: json(ErrorEnvelope, 'Bad signature') },
  });
  registerPresetPaths(registry, { security, headers: UserHeader, errors, json, body, envelope });
  registerStudioPaths(registry, { security, headers: UserHeader, errors, json, body, envelope });
  registry.registerPath({ method: 'get', path: '/healthz', summary: 'Liveness', responses: { 200: { description: 'Alive' } } });
  registry.registerPath({ method: 'get', path: '/readyz', summary: 'Readiness (database, Redis, recorder)', responses: { 200: { description: 'Ready' }, 503: { description: 'Not ready' } } });
  registry.registerPath({ method: 'get', path: '/metrics', summary: 'Prometheus metrics', responses: { 200: { description: 'Metrics' } } });

  const generator = new OpenApiGeneratorV31(registry.definitions);
  return {
    ...generator.generateDocument({
      openapi: '3.1.0',
      info: { title: 'LiveKit recorder', version: '0.1.0', description: 'Records LiveKit calls the way viewers saw them.' },
    }),
  };
}
