import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { registerPresetPaths } from './preset-schemas';
import {
  AddMarkerBody,
  AddParticipantsBody,
  CallParams,
  CallViewSchema,
  CreateCallBody,
  DownloadUrlSchema,
  envelope,
  ErrorEnvelope,
  ListRecordingsQuery,
  MarkerSchema,
  ParticipantParams,
  RecordingParams,
  RecordingViewSchema,
  StartRecordingBody,
  StartedSchema,
  StopRecordingBody,
  UpdateRecordingBody,
  UserId,
} from './schemas';
import { registerStudioPaths } from './studio-schemas';

/** /api/openapi.json: every route with the schemas that validate it (schemas.ts, preset-schemas.ts, studio-schemas.ts). */
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
      503: { ...json(ErrorEnvelope, 'NO_CAPACITY: no worker has room now; try again after Retry-After'), headers: { 'Retry-After': { description: 'Seconds to wait before starting again', schema: { type: 'integer', example: 5 } } } },
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
    summary: 'Change a recording while it records: layout, theme, who is recorded, stream destinations (host)',
    description:
      'The file shows the change within a second of the response; streams added start from the latest keyframe, those removed end (listed ENDED in streams). 400 STREAM_URL_NOT_ALLOWED, STREAM_URL_INVALID, TOO_MANY_STREAMS, STREAM_NOT_FOUND (see streams), CHANGE_EMPTY (nothing named), VALIDATION_ERROR (an unknown field, or streams that neither add nor remove one), PARTICIPANTS_FILTER_INVALID (not exactly one of include and exclude), PRESET_CANVAS_MISMATCH (a preset of another size or fps); 404 PRESET_NOT_FOUND; 409 RECORDING_NOT_LIVE unless the recording is RECORDING. A refused change changes nothing.',
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
