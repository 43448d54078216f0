import { z } from 'zod';
import { fromZod } from '../../src/api/errors';
import { buildOpenApiDocument } from '../../src/api/openapi';
import { CreateCallBody, StartRecordingBody } from '../../src/api/schemas';

describe('request schemas', () => {
  test('strict: unknown fields are refused', () => {
    expect(StartRecordingBody.safeParse({ format: 'mp4', extra: 1 }).success).toBe(false);
    expect(CreateCallBody.safeParse({ roomName: 'r', hostId: 'h', admin: true }).success).toBe(false);
    expect(CreateCallBody.safeParse({ roomName: 'r', hostId: 'h' }).success).toBe(true);
  });
  test('enum values we do not support map to UNSUPPORTED_OPTION, the rest to VALIDATION_ERROR', () => {
    const bad = StartRecordingBody.safeParse({ format: 'avi' });
    expect(fromZod((bad as { error: z.ZodError }).error, 'body').code).toBe('UNSUPPORTED_OPTION');
    const wrongType = StartRecordingBody.safeParse({ fps: '30' });
    const e = fromZod((wrongType as { error: z.ZodError }).error, 'body');
    expect(e.code).toBe('VALIDATION_ERROR');
    expect(e.message).toMatch(/^body\.fps: /);
  });
});

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
  test('every endpoint is described', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/api/video-calls',
        '/api/video-calls/{callId}',
        '/api/video-calls/{callId}/participants',
        '/api/video-calls/{callId}/participants/{userId}',
        '/api/video-calls/{callId}/recording/start',
        '/api/video-calls/{callId}/recording/stop',
        '/api/video-calls/{callId}/recording/pause',
        '/api/video-calls/{callId}/recording/resume',
        '/api/video-calls/{callId}/recording/markers',
        '/api/video-calls/{callId}/recording/{recordingId}',
        '/api/video-calls/{callId}/recording/{recordingId}/download',
        '/api/video-calls/{callId}/recording/{recordingId}/retry',
        '/api/video-calls/{callId}/recordings',
        '/api/livekit/webhook',
        '/api/layout-presets',
        '/api/layout-presets/{name}',
        '/api/layout-presets/{name}/assets',
        '/api/layout-presets/{name}/assets/{file}',
        '/api/studio/check',
        '/api/studio/image',
        '/healthz',
        '/readyz',
        '/metrics',
      ].sort(),
    );
    expect(Object.keys(doc.paths['/api/video-calls/{callId}/recording/{recordingId}']!).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(doc.paths['/api/layout-presets']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/layout-presets/{name}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/api/layout-presets/{name}/assets/{file}']!).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/api/layout-presets/{name}/assets/{file}']!.put.requestBody.content).sort()).toEqual(['image/gif', 'image/jpeg', 'image/png', 'image/webp']);
  });
  test('the preset bodies come from the domain\'s schema, strict; start and PATCH name a preset', () => {
    const create = doc.components.schemas.CreateLayoutPresetBody;
    expect(create.additionalProperties).toBe(false);
    expect(create.required).toEqual(['name']);
    expect(Object.keys(create.properties).sort()).toEqual(['fps', 'height', 'layout', 'name', 'overlays', 'resolution', 'theme', 'width']);
    expect(doc.components.schemas.LayoutPresetSettings.additionalProperties).toBe(false);
    expect(doc.components.schemas.LayoutPreset.properties.createdBy).toBeDefined();
    expect(doc.components.schemas.StartRecordingBody.properties.preset.pattern).toBe('^[a-z0-9_-]{1,64}$');
    expect(doc.components.schemas.UpdateRecordingBody.properties.preset).toBeDefined();
    expect(doc.paths['/api/layout-presets/{name}']!.put.responses['201']).toBeDefined();
  });
  test('the start body schema comes from the validator', () => {
    const s = doc.components.schemas.StartRecordingBody;
    expect(s.additionalProperties).toBe(false);
    expect(s.properties.format.enum).toEqual(['mp4', 'webm', 'mkv', 'm4a', 'ogg']);
    expect(StartRecordingBody.safeParse({ format: 'ogg' }).success).toBe(true);
    expect(s.properties.resolution.enum).toEqual(['720p', '1080p', '720p-portrait', '1080p-portrait']);
    expect(s.properties.layout.enum).toEqual(expect.arrayContaining(['grid', 'speaker-light', 'single-speaker-dark', 'presentation', 'single']));
    expect(s.properties.theme.enum).toEqual(['dark', 'light']);
    expect(s.properties.width).toMatchObject({ minimum: 120, maximum: 1920 });
    expect(doc.paths['/api/video-calls/{callId}/recording/start']!.post.responses['201']).toBeDefined();
  });
});
