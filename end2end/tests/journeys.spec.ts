import { test, expect } from '@playwright/test';
import { base, gitlab, signIn, signOut, url, waitForHydration } from './helpers';

test('a maintainer signs in, opens a project and its image repositories, and signs out', async ({ page }) => {
  await signIn(page, 'maria');
  await expect(page).toHaveURL(url('/i/demo'));
  await expect(page.getByRole('heading', { name: 'Projects with container images' })).toBeVisible();
  // The header names the signed-in user.
  await expect(page.locator('.user-chip')).toContainText('@maria');
  // Projects without images (acme/platform/tools) are hidden; those with images are listed.
  const projects = page.locator('li[data-project]');
  await expect(projects.filter({ hasText: 'acme/web' })).toHaveCount(1);
  await expect(page.locator('li[data-project="acme/platform/tools"]')).toHaveCount(0);
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Web', exact: true }).click();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/web'));
  await expect(page.getByRole('heading', { name: 'Web' })).toBeVisible();
  const rows = page.locator('table.repositories tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(page.locator('tr[data-repository="acme/web/worker"]')).toBeVisible();
  await expect(page.getByText('Your role:')).toContainText('Maintainer');
  await signOut(page);
  // Signed out means signed out: the project page asks for a sign-in again.
  await page.goto(url('/i/demo/projects/acme/web'));
  await expect(page).toHaveURL(/\/login\?instance=demo&return_to=/);
});

test('the page is hydrated: the copy button only works after the wasm bundle ran', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
  await signIn(page, 'maria', '/i/demo/projects/acme/web');
  const copy = page.locator('tr[data-repository="acme/web/worker"] .copy-button');
  await waitForHydration(page);
  await expect(copy).toBeEnabled();
  await copy.click();
  await expect(copy).toHaveAttribute('data-state', 'copied');
  await expect(copy).toContainText('Copied');
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());
  expect(clipboard).toMatch(/\/acme\/web\/worker$/);
});

test('search and sort live in the URL and back/forward work after hydration', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/projects/acme/platform/api');
  await waitForHydration(page);
  const rows = page.locator('table.repositories tbody tr');
  await expect(rows).toHaveCount(3);
  await page.getByRole('searchbox', { name: 'Filter images by name' }).fill('serv');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?q=serv'));
  await expect(rows).toHaveCount(1);
  await expect(page.locator('tr[data-repository="acme/platform/api/server"]')).toBeVisible();
  // The 10,000-tag repository shows its count.
  const serverRow = page.locator('tr[data-repository="acme/platform/api/server"]');
  await expect(serverRow.locator('td.num').first()).toHaveText('10,000');
  // Its size comes from the repository's details (the metadata database knows it).
  await expect(serverRow.locator('td.num').nth(1)).toHaveText(/\d(\.\d)? [KMGT]iB$/);
  await page.getByRole('link', { name: /^Image/ }).click();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?q=serv&sort=name_desc'));
  await page.goBack();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?q=serv'));
  await page.goBack();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api'));
  await expect(rows).toHaveCount(3);
  await page.goForward();
  await expect(rows).toHaveCount(1);
});

test('a shared link survives the sign-in: a signed-out visitor lands on the same view', async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const shared = '/i/demo/projects/acme/platform/api?q=mig&sort=created_desc';
  await signIn(page, 'devon', shared);
  await expect(page).toHaveURL(url(shared));
  await expect(page.locator('table.repositories tbody tr')).toHaveCount(1);
  await expect(page.locator('tr[data-repository="acme/platform/api/migrations"]')).toBeVisible();
  await context.close();
});

test('forbidden and not-found are told apart', async ({ page }) => {
  await signIn(page, 'gus', '/i/demo/projects/acme/web');
  await expect(page.getByRole('heading', { name: 'Access denied' })).toBeVisible();
  await signOut(page);
  await signIn(page, 'maria', '/i/demo/projects/olivia/secret');
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  const response = await page.request.get(url('/i/demo/projects/olivia/secret'));
  expect(response.status()).toBe(404);
});

test('groups list and a group page with all its repositories', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/groups');
  await expect(page.locator('li[data-group="acme"]')).toBeVisible();
  await page.locator('li[data-group="acme"] a').click();
  await expect(page).toHaveURL(url('/i/demo/groups/acme'));
  await expect(page.getByRole('heading', { name: 'acme' })).toBeVisible();
  await expect(page.locator('tr[data-repository="acme/platform/api/server"]')).toBeVisible();
  await expect(page.locator('tr[data-repository="acme/web/worker"]')).toBeVisible();
});

test('light and dark themes both render, and the choice sticks', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/projects/acme/web');
  await waitForHydration(page);
  const toggle = page.locator('.theme-toggle');
  await toggle.click(); // system → light
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
  await toggle.click(); // light → dark
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).toBe('rgb(24, 23, 29)');
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
});

test('no response of a journey ever contains the GitLab tokens', async ({ page, context }) => {
  const bodies: { url: string; body: Buffer }[] = [];
  page.on('response', async (response) => {
    if (!response.url().startsWith(base())) return;
    try {
      bodies.push({ url: response.url(), body: await response.body() });
    } catch {
      // Redirects have no body.
    }
  });
  await signIn(page, 'maria');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Web', exact: true }).click();
  await expect(page.locator('table.repositories')).toBeVisible();
  await page.getByRole('link', { name: 'Groups' }).click();
  await expect(page.locator('li[data-group="acme"]')).toBeVisible();
  // Ask the double which tokens it issued (a test-only endpoint of the fake GitLab).
  const issued = await (await context.request.get(`${gitlab()}/-/double/tokens`)).json();
  const secrets: string[] = issued.flatMap((t: { access_token: string; refresh_token: string }) => [
    t.access_token,
    t.refresh_token,
  ]);
  expect(secrets.length).toBeGreaterThan(0);
  expect(bodies.some((b) => b.url.endsWith('.wasm'))).toBeTruthy();
  expect(bodies.some((b) => b.url.includes('/api/fn/'))).toBeTruthy();
  for (const { url: where, body } of bodies) {
    for (const secret of secrets) {
      expect(body.includes(secret), `token found in ${where}`).toBeFalsy();
    }
  }
});
