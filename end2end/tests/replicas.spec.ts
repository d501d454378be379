import { test, expect, Page } from '@playwright/test';
import { Cluster } from './cluster';

// The whole product through two replicas behind a round-robin proxy that knows nothing of
// sessions, sharing one Redis: every request may land on either replica, one is killed in
// the middle and restarted, and the user never notices.

const SERVER = '/i/demo/repositories/3'; // acme/platform/api/server: 10,000 tags
const WORKER = '/i/demo/repositories/2'; // acme/web/worker: 15 tags
const EDITOR = '/i/demo/cleanup/acme/web';

let cluster: Cluster;

test.beforeAll(async () => {
  cluster = await Cluster.start(2);
});

test.afterAll(async () => {
  await cluster?.stop();
});

const rowNames = (page: Page) =>
  page.locator('table.tags tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tag')));

async function hydrated(page: Page) {
  await page.waitForFunction(() => {
    const theme = document.querySelector('.theme-toggle') as HTMLButtonElement | null;
    return theme !== null && !theme.disabled;
  });
}

test('two replicas, no stickiness: sign in, browse, filter 10,000 tags, delete, save a policy, lose a replica, keep the session', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const at = (p: string) => `${cluster.url()}${p}`;

  // Sign in through the proxy: the sign-in starts on one replica and its callback comes
  // back to whichever the proxy picks.
  await page.goto(at('/i/demo'));
  await expect(page).toHaveURL(/\/login\?/);
  await page.getByRole('link', { name: /Sign in with the demo GitLab/ }).click();
  await expect(page).toHaveURL(new RegExp(`^${cluster.gitlab()}/oauth/authorize`));
  await page.getByRole('button', { name: /@?maria\b/ }).first().click();
  await expect(page).toHaveURL(at('/i/demo'));
  await expect(page.locator('.user-chip')).toContainText('@maria');
  expect(cluster.served[0].length).toBeGreaterThan(0);
  expect(cluster.served[1].length).toBeGreaterThan(0);

  // Browse to a project and its repositories.
  await page.getByRole('link', { name: 'Web', exact: true }).click();
  await expect(page).toHaveURL(at('/i/demo/projects/acme/web'));
  await expect(page.locator('table.repositories tbody tr')).toHaveCount(2);

  // The 10,000-tag list, indexed once for both replicas, filtered across all its tags.
  const before = await cluster.gitlabRequests();
  await page.goto(at(SERVER));
  await expect(page.getByTestId('index-progress')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('tag-summary')).toHaveText('10,000 tags');
  await hydrated(page);
  await page.getByRole('searchbox', { name: 'Name' }).fill('main');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(at(`${SERVER}?q=main`));
  await expect(page.getByTestId('tag-summary')).toContainText('of 10,000 tags match');
  const matching = await page.getByTestId('tag-summary').textContent();
  // Reloads land on both replicas; both answer from the one shared index.
  for (let i = 0; i < 4; i++) {
    await page.reload();
    await expect(page.getByTestId('tag-summary')).toHaveText(matching!);
  }
  const used = (await cluster.gitlabRequests()) - before;
  expect(used, `GitLab requests for the 10,000-tag index on two replicas`).toBeLessThan(800);

  // One replica dies mid-session; the other carries on with the same session.
  await cluster.kill(0);
  await page.goto(at(`${WORKER}?sort=name_asc`));
  await hydrated(page);
  const tags = await rowNames(page);
  expect(tags.length).toBe(15);
  const pick = tags.slice(0, 2) as string[];
  await page.getByRole('checkbox', { name: `Select ${pick[0]}` }).click();
  await page.getByRole('checkbox', { name: `Select ${pick[1]}` }).click({ modifiers: ['Shift'] });
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete 2 tags?');
  await dialog.getByRole('button', { name: 'Delete 2 tags' }).click();
  await expect(dialog.getByRole('status')).toHaveText('2 tags deleted.');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('tag-summary')).toHaveText('13 tags');

  // Back with both replicas: the session, the deletion and the index hold on either.
  await cluster.restart(0);
  for (let i = 0; i < 2; i++) {
    await page.goto(`${cluster.replicaUrl(i)}${WORKER}?sort=name_asc`);
    await expect(page.getByTestId('tag-summary')).toHaveText('13 tags');
    expect(await rowNames(page)).toEqual(tags.slice(2));
  }

  // A policy saved through the proxy.
  await page.goto(at(EDITOR));
  await hydrated(page);
  const keep = page.getByLabel('Keep tags matching (regex; wins over remove)');
  await keep.fill('(v|stable).*');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page).toHaveURL(at(EDITOR));
  await page.reload();
  await expect(page.getByLabel('Keep tags matching (regex; wins over remove)')).toHaveValue('(v|stable).*');
  expect(cluster.served[0].length).toBeGreaterThan(0);
});
