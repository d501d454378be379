import { test, expect, Page } from '@playwright/test';
import { signIn, url, waitForHydration } from './helpers';

// The bundle is split by page group (app/src/routes.rs): a page fetches the main module and
// its group's chunks, and a client-side navigation fetches the next group's chunks.

const PROJECT = '/i/demo/projects/acme/web';
const CLEANUP = '/i/demo/cleanup/acme/web';
const CLEANUP_CHUNK = /\/split_cleanup_pages\.wasm$/;

/** Every wasm file the page requests from now on. */
function recordWasm(page: Page): string[] {
  const files: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) files.push(path);
  });
  return files;
}

/** Marks the current document; the mark is gone after a full page load. */
async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { mark: number }).mark = 1));
}
const documentMarked = (page: Page) =>
  page.evaluate(() => (window as unknown as { mark?: number }).mark === 1);

test('a page fetches only its own code, and the policy page its engine when opened', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  const wasm = recordWasm(page);
  await page.goto(url('/i/demo/repositories/2'));
  await waitForHydration(page);
  await expect(page.locator('tbody tr').first()).toBeVisible();
  expect(wasm.some((f) => /\/frontend_bg\.wasm$/.test(f))).toBe(true);
  expect(wasm.some((f) => /\/split_tag_list_pages\.wasm$/.test(f))).toBe(true);
  // Neither the other pages, nor the cleanup engine, nor the credentials page comes with a
  // tag list.
  expect(wasm.filter((f) => /split_(browse|cleanup|credential)_pages/.test(f))).toEqual([]);

  // A client-side navigation to the policy page fetches its chunk, without a page load.
  await page.goto(url(PROJECT));
  await waitForHydration(page);
  await markDocument(page);
  wasm.length = 0;
  await page.getByRole('link', { name: 'Cleanup policy' }).first().click();
  await expect(page).toHaveURL(url(CLEANUP));
  await expect(page.getByRole('heading', { name: 'Cleanup policy', level: 1 })).toBeVisible();
  await expect(page.getByTestId('preview-total')).toBeVisible();
  expect(wasm.filter((f) => CLEANUP_CHUNK.test(f)).length).toBeGreaterThan(0);
  expect(await documentMarked(page)).toBe(true);
});

test('a first visit preloads its page\'s chunks from the head, and fetches each once', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  const wasm = recordWasm(page);
  const unused: string[] = [];
  page.on('console', (m) => {
    if (/preloaded using link preload but not used/.test(m.text())) unused.push(m.text());
  });
  await page.goto(url('/i/demo/repositories/2'));
  await waitForHydration(page);
  await expect(page.locator('tbody tr').first()).toBeVisible();
  const preloaded = await page.locator('head link[rel="preload"][as="fetch"]').evaluateAll((links) =>
    links.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  const chunks = preloaded.filter((f) => !/\/frontend_bg\.wasm$/.test(f));
  expect(chunks.some((f) => /\/split_tag_list_pages\.wasm$/.test(f))).toBe(true);
  expect(chunks.filter((f) => /split_(browse|cleanup|credential)_pages|split_delete_dialog/.test(f)))
    .toEqual([]);
  // The chunk loader's requests were answered by the preloads: one request per file, and
  // nothing fetched that the head did not announce.
  expect([...wasm].sort()).toEqual([...preloaded].sort());
  expect(unused).toEqual([]);
});

test('a page whose code cannot be fetched is loaded from the server instead', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  await waitForHydration(page);
  // The first fetches fail (as when a deployment replaced the build this page came from).
  let refused = 0;
  await page.route(CLEANUP_CHUNK, (route) => (++refused <= 2 ? route.abort() : route.continue()));
  await markDocument(page);
  await page.getByRole('link', { name: 'Cleanup policy' }).first().click();
  await expect(page).toHaveURL(url(CLEANUP));
  await expect(page.getByRole('heading', { name: 'Cleanup policy', level: 1 })).toBeVisible();
  expect(await documentMarked(page)).toBe(false);
  expect(refused).toBeGreaterThanOrEqual(2);
  // The reloaded page is whole and alive: the editor answers.
  await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'This page could not be loaded' })).toHaveCount(0);
});

test('a page whose code never arrives is reloaded once, then reads as the server rendered it', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  await waitForHydration(page);
  await page.route(CLEANUP_CHUNK, (route) => route.abort());
  const loads: string[] = [];
  page.on('request', (request) => {
    if (request.resourceType() === 'document') loads.push(new URL(request.url()).pathname);
  });
  await page.getByRole('link', { name: 'Cleanup policy' }).first().click();
  await expect(page).toHaveURL(url(CLEANUP));
  await expect(page.getByRole('heading', { name: 'Cleanup policy', level: 1 })).toBeVisible();
  // One reload, no loop.
  await page.waitForTimeout(2_000);
  expect(loads).toEqual([CLEANUP]);
  await expect(page.getByTestId('preview-total')).toBeVisible();
});

const DIALOG_CHUNK = /\/split_delete_dialog\.wasm$/;

test('the deletion dialog comes with the first Delete button reached, not with the page', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  const wasm = recordWasm(page);
  await page.goto(url('/i/demo/repositories/2'));
  await waitForHydration(page);
  const row = page.locator('tbody tr').first();
  await expect(row).toBeVisible();
  expect(wasm.filter((f) => DIALOG_CHUNK.test(f))).toEqual([]);

  const dialogChunk = page.waitForRequest((r) => DIALOG_CHUNK.test(new URL(r.url()).pathname));
  await row.getByRole('button', { name: /^Delete / }).hover();
  await dialogChunk;
  await row.getByRole('button', { name: /^Delete / }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading', { name: /^Delete tag / })).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(wasm.filter((f) => DIALOG_CHUNK.test(f))).toHaveLength(1);
});

test('a deletion dialog whose code cannot be fetched says so and deletes nothing', async ({ page }) => {
  await signIn(page, 'maria', PROJECT);
  await page.route(DIALOG_CHUNK, (route) => route.abort());
  const deletions: string[] = [];
  page.on('request', (r) => {
    if (/delete_tags|plan_deletion/.test(r.url())) deletions.push(r.url());
  });
  await page.goto(url('/i/demo/repositories/2'));
  await waitForHydration(page);
  const row = page.locator('tbody tr').first();
  const name = await row.getAttribute('data-tag');
  // By keyboard: the focus reaching the button starts the fetch that fails.
  await row.getByRole('button', { name: /^Delete / }).focus();
  await page.keyboard.press('Enter');
  const alert = page.getByRole('alertdialog');
  await expect(alert.getByRole('heading', { name: 'The deletion dialog could not be opened' })).toBeVisible();
  await expect(alert).toContainText('Nothing was deleted.');
  await expect(alert.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByRole('alertdialog')).toHaveCount(0);
  await expect(page.locator(`tbody tr[data-tag="${name}"]`)).toBeVisible();
  expect(deletions).toEqual([]);
});
