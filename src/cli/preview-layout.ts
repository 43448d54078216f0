import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import type { Config } from '../config';
import { openDatabase } from '../db';
import { PrismaLayoutPresetRepository } from '../db/preset-repository';
import { AppError, isAppError } from '../errors';
import { BrowserPool } from '../recorder/browser-pool';
import { overlayImageReader, pageOverlays } from '../recorder/overlay-assets';
import type { Logger } from '../recorder/logger';
import { bundledPageDir, serveBundledPage } from '../recorder/static-files';
import { createStorage } from '../storage';
import { StoragePresetAssets } from '../storage/preset-assets';
import type { Storage } from '../storage/types';
import { checkIdentifier } from '../recordings/identifiers';
import { overlayAssets } from '../recordings/overlays';
import { checkAssetExists, type PresetAssetStore } from '../recordings/preset-assets';
import { findPreset, type LayoutPreset } from '../recordings/presets';
import { resolvePreview, type PreviewInput } from '../recordings/preview-options';
import { layoutSpelling } from '../../recorder-page/src/layouts/names';
import { previewQuery, type PreviewRequest } from '../../recorder-page/src/preview-scene';

export interface PreviewCommandOptions extends Omit<PreviewInput, 'overlays'> {
  output: string;
  /** --overlays: the start request's `overlays` as JSON text. */
  overlays?: string;
  /** A layout preset in the configured database; the other flags override its settings. */
  preset?: string;
  /** --screen-share without a number: the first participant shares. */
  screenShare?: number;
}

/** What the preview page answers: checked, it comes from a browser. */
const PNG_DATA_URL = z.string().startsWith('data:image/png;base64,');

/** How each field is named in messages: its flag. */
const FLAGS: Partial<Record<keyof PreviewInput, string>> = { screenShare: '--screen-share', cameraOff: '--camera-off' };
const flag = (field: keyof PreviewInput) => FLAGS[field] ?? `--${field}`;

/**
 * The flags as a preview request, under the API's rules for layout, theme and size; with
 * --preset, its settings from the configured database are the defaults of the flags'.
 */
export async function resolvePreviewFlags(o: PreviewCommandOptions, database: Config['database']): Promise<PreviewRequest> {
  if (path.extname(o.output).toLowerCase() !== '.png') throw new AppError('UNSUPPORTED_OPTION', '--output must name a .png file');
  let overlays: unknown;
  if (o.overlays !== undefined) {
    try {
      overlays = JSON.parse(o.overlays);
    } catch {
      throw new AppError('UNSUPPORTED_OPTION', '--overlays must be JSON, e.g. \'{"textWatermark": {"text": "ACME"}}\'');
    }
  }
  return resolvePreview({ ...o, overlays }, flag, o.preset === undefined ? undefined : await loadPreset(database, o.preset));
}

/** The preset `name` from the configured database (DATABASE_URL, else the embedded one): PRESET_NOT_FOUND when it has none. */
async function loadPreset(database: Config['database'], name: string): Promise<LayoutPreset> {
  checkIdentifier('presetName', name, '--preset');
  const db = await openDatabase(database, { poolSize: 1 });
  try {
    return await findPreset(new PrismaLayoutPresetRepository(db.prisma), name);
  } finally {
    await db.close();
  }
}

/**
 * One frame of `request` as a PNG, drawn by the recorder page's compositor (the preview
 * entry of the page bundle) in a Chromium launched as a worker launches its own.
 */
export async function renderPreview(recorder: Config['recorder'], request: PreviewRequest, log: Logger, assets?: PresetAssetStore): Promise<Buffer> {
  const overlays = await pageOverlays(request.overlays, overlayImageReader(assets));
  const drawn: PreviewRequest = { ...request, overlays: overlays ?? undefined };
  const dir = bundledPageDir();
  const server = http.createServer((req, res) => {
    if (!serveBundledPage(dir, req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/recorder/preview.html`;
  const pool = new BrowserPool({ chromiumPath: recorder.chromiumPath, extraArgs: recorder.chromiumExtraArgs, warmBrowsers: 0 }, log);
  try {
    await pool.start(url);
    const page = await pool.openUrlPage(url, { width: request.width, height: request.height });
    try {
      await page.page.waitForFunction('window.preview', { timeout: 15000 });
      const png = PNG_DATA_URL.parse(await page.run(`window.preview.render(${JSON.stringify(previewQuery(drawn))})`));
      return Buffer.from(png.slice(png.indexOf(',') + 1), 'base64');
    } finally {
      await page.close();
    }
  } finally {
    await pool.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** `recorder preview-layout`: writes the PNG and says what it shows. */
export async function previewLayoutCommand(config: Config, o: PreviewCommandOptions, log: Logger): Promise<void> {
  const request = await resolvePreviewFlags(o, config.database);
  const png = await withPresetAssets(config.storage, request, (assets) => renderPreview(config.recorder, request, log, assets));
  const output = path.resolve(o.output);
  await fs.writeFile(output, png);
  const name = layoutSpelling(request.layout, request.theme);
  const from = o.preset === undefined ? '' : ` (preset ${o.preset})`;
  process.stdout.write(`${output}\n${request.width}x${request.height} ${name}${from}, ${request.participants} participant(s)\n`);
}

/**
 * `run` with the presets' assets the overlays name, read from the configured storage
 * (RECORDING_STORAGE_*) as the service reads them: OVERLAY_ASSET_NOT_FOUND saying where it
 * looked when one is not there. Without such overlays no storage is opened.
 */
async function withPresetAssets<T>(storage: Config['storage'], request: PreviewRequest, run: (assets?: PresetAssetStore) => Promise<T>): Promise<T> {
  const refs = overlayAssets(request.overlays);
  if (refs.length === 0) return run();
  const where =
    storage.provider === 'local'
      ? `local storage in ${storage.localDir} (RECORDING_OUTPUT_DIR)`
      : `${storage.provider} bucket ${storage.bucket ?? '(none set)'}${storage.prefix ? ` under ${storage.prefix}` : ''} (RECORDING_STORAGE_*)`;
  let store: Storage;
  try {
    store = createStorage(storage);
  } catch (err) {
    throw new AppError('CONFIG_INVALID', `the overlays name preset assets, which preview-layout reads from the service's storage (RECORDING_STORAGE_*): ${(err as Error).message}`, { cause: err });
  }
  try {
    const assets = new StoragePresetAssets(store, storage.prefix);
    for (const ref of refs) {
      await checkAssetExists(ref, assets).catch((err: unknown) => {
        if (!isAppError(err) || err.code !== 'OVERLAY_ASSET_NOT_FOUND') throw err;
        throw new AppError(err.code, `${err.message}; preview-layout looked in the configured storage, ${where}: set the service's RECORDING_STORAGE_* and RECORDING_OUTPUT_DIR`);
      });
    }
    return await run(assets);
  } finally {
    await store.close();
  }
}
