import type { LayoutPreset, LayoutPresetRepository, NewLayoutPreset, PresetSettings } from '../recordings/presets';
import { storedPresetSettings } from '../recordings/presets';
import { Prisma, type LayoutPreset as LayoutPresetRow, type PrismaClient } from './prisma';
import { uniqueViolation } from './recording-rows';

/**
 * The layout presets on the LayoutPreset table: one column a setting, null where the preset
 * leaves it alone; rows are parsed with the domain's rules as they are read (presets.ts).
 */
export class PrismaLayoutPresetRepository implements LayoutPresetRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(preset: NewLayoutPreset): Promise<LayoutPreset | null> {
    try {
      return parsedPreset(await this.prisma.layoutPreset.create({ data: { name: preset.name, createdBy: preset.createdBy, ...columns(preset.settings) } }));
    } catch (err) {
      if (uniqueViolation(err) !== undefined) return null;
      throw err;
    }
  }

  async put(preset: NewLayoutPreset): Promise<{ preset: LayoutPreset; created: boolean }> {
    // replace, else create; a create that lost a race to another put replaces what that one wrote
    for (;;) {
      const replaced = await this.prisma.layoutPreset.updateMany({ where: { name: preset.name }, data: columns(preset.settings) });
      if (replaced.count === 1) return { preset: parsedPreset(await this.prisma.layoutPreset.findUniqueOrThrow({ where: { name: preset.name } })), created: false };
      const created = await this.create(preset);
      if (created) return { preset: created, created: true };
    }
  }

  async get(name: string): Promise<LayoutPreset | null> {
    const row = await this.prisma.layoutPreset.findUnique({ where: { name } });
    return row ? parsedPreset(row) : null;
  }

  async list(): Promise<LayoutPreset[]> {
    return (await this.prisma.layoutPreset.findMany({ orderBy: { name: 'asc' } })).map(parsedPreset);
  }

  async delete(name: string): Promise<LayoutPreset | null> {
    try {
      return parsedPreset(await this.prisma.layoutPreset.delete({ where: { name } }));
    } catch (err) {
      // P2025: no such row
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return null;
      throw err;
    }
  }
}

/** Every setting's column: what the preset does not set is NULL, so a replaced preset keeps none of the old one's. */
function columns(s: PresetSettings) {
  return {
    layout: s.layout ?? null,
    theme: s.theme ?? null,
    width: s.width ?? null,
    height: s.height ?? null,
    fps: s.fps ?? null,
    overlays: s.overlays ?? Prisma.DbNull,
  };
}

function parsedPreset(row: LayoutPresetRow): LayoutPreset {
  const { name, createdBy, createdAt, updatedAt, ...settings } = row;
  const set = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== null));
  return { name, settings: storedPresetSettings(set, name), createdBy, createdAt, updatedAt };
}
