// Bundles the recorder page, the tab-capture source for custom layout pages, an example layout page, the synthetic publisher (demo, tests, benchmarks), the layout preview and the layout studio for Chromium with esbuild.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'recorder-page', 'dist');
mkdirSync(out, { recursive: true });
const common = { bundle: true, format: 'iife', target: 'chrome120', sourcemap: true, minify: true, logLevel: 'warning' };
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/main.ts')], outfile: join(out, 'recorder.js') });
copyFileSync(join(root, 'recorder-page/index.html'), join(out, 'index.html'));
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/synthetic-publisher.ts')], outfile: join(out, 'publisher.js') });
copyFileSync(join(root, 'recorder-page/publisher.html'), join(out, 'publisher.html'));
// the tab-capture source injected into custom layout pages
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/tab-capture.ts')], outfile: join(out, 'tab-capture.js') });
// an example custom layout page (served from its own origin in the tests)
mkdirSync(join(out, 'examples'), { recursive: true });
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/examples/custom-layout.ts')], outfile: join(out, 'examples', 'custom-layout.js') });
copyFileSync(join(root, 'recorder-page/examples/custom-layout.html'), join(out, 'examples', 'custom-layout.html'));
// the layout preview: the compositor with synthetic participants (recorder preview-layout)
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/preview.ts')], outfile: join(out, 'preview.js') });
copyFileSync(join(root, 'recorder-page/preview.html'), join(out, 'preview.html'));
// the layout studio, served by the API at /studio: the same compositor with synthetic participants, live
await build({ ...common, entryPoints: [join(root, 'recorder-page/src/studio.ts')], outfile: join(out, 'studio.js') });
copyFileSync(join(root, 'recorder-page/studio.html'), join(out, 'studio.html'));
copyFileSync(join(root, 'recorder-page/studio.css'), join(out, 'studio.css'));
