// What each page group of the split bundle costs a browser, as served (brotli):
//   node scripts/bundle-report.mjs target/site/pkg/<hash> [--json]
// A page needs the main module, its JS glue, the chunk loader and the chunks the manifest
// lists for its group (the group's own chunk and the chunks it shares with other groups).
// Split points not named `*_pages` are parts a page loads when first used (the deletion
// dialog): for those the report says what they add to each page group's chunks.
// The stylesheet is reported apart: it is not code.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [dir, flag] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/bundle-report.mjs PKG_HASH_DIR [--json]');
  process.exit(2);
}
const served = (file) => {
  const br = join(dir, `${file}.br`);
  if (!existsSync(br)) throw new Error(`${br} is missing: run scripts/build-site.sh`);
  return { raw: statSync(join(dir, file)).size, brotli: statSync(br).size, files: 1 };
};
const add = (a, b) => ({ raw: a.raw + b.raw, brotli: a.brotli + b.brotli, files: a.files + b.files });
const none = { raw: 0, brotli: 0, files: 0 };

const manifest = JSON.parse(readFileSync(join(dir, '__wasm_split_manifest.json'), 'utf8'));
const loader = '__wasm_split.______________________.js';
const main = ['frontend_bg.wasm', 'frontend.js', loader].map(served).reduce(add, none);
const groups = Object.entries(manifest)
  .map(([key, stems]) => {
    const chunks = stems.map((stem) => served(`${stem}.wasm`)).reduce(add, none);
    const name = key.replace(/_\d+$/, '');
    return { name, stems, chunks, total: add(chunks, main) };
  })
  .sort((a, b) => a.name.localeCompare(b.name));
const pages = groups.filter((g) => g.name.endsWith('_pages'));
const parts = groups
  .filter((g) => !g.name.endsWith('_pages'))
  .map((part) => ({
    name: part.name,
    adds: Object.fromEntries(pages.map((page) => [page.name, part.stems
      .filter((stem) => !page.stems.includes(stem))
      .map((stem) => served(`${stem}.wasm`))
      .reduce(add, none)])),
  }));
const report = { main, css: served('frontend.css'), groups: pages, parts };

if (flag === '--json') {
  console.log(JSON.stringify(report, null, 2));
} else {
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  console.log(`main module + glue + loader: ${kb(main.brotli)} brotli (${kb(main.raw)} raw)`);
  for (const g of pages) {
    console.log(
      `  ${g.name.padEnd(22)} own chunks ${kb(g.chunks.brotli).padStart(8)} in ${String(g.chunks.files).padStart(2)} files;` +
        ` page needs ${kb(g.total.brotli).padStart(8)} brotli (${kb(g.total.raw)} raw)`,
    );
  }
  for (const part of parts) {
    const adds = Object.entries(part.adds)
      .map(([page, a]) => `${page} ${kb(a.brotli)} in ${a.files} files`)
      .join(', ');
    console.log(`  ${part.name.padEnd(22)} on first use adds: ${adds}`);
  }
}
