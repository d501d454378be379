import { test, expect } from '@playwright/test';
import { signIn, url } from './helpers';

// JavaScript is disabled in this project: everything here is server-rendered HTML, plain links
// and plain GET forms.
test('reading works without JavaScript: sign in, shared search URL, search form, sort links', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/projects/acme/platform/api?q=serv');
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?q=serv'));
  const rows = page.locator('table.repositories tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(page.locator('tr[data-repository="acme/platform/api/server"]')).toBeVisible();
  // The copy button needs JavaScript, so it stays disabled; the path is there to select.
  await expect(page.locator('tr[data-repository="acme/platform/api/server"] .copy-button')).toBeDisabled();

  const search = page.getByRole('searchbox', { name: 'Filter images by name' });
  await expect(search).toHaveValue('serv');
  await search.fill('leg');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?q=leg'));
  await expect(page.locator('tr[data-repository="acme/platform/api/legacy"]')).toBeVisible();
  await expect(page.locator('tr[data-repository="acme/platform/api/legacy"]')).toContainText('Scheduled for deletion');

  await page.goto(url('/i/demo/projects/acme/platform/api'));
  await page.getByRole('link', { name: /^Image/ }).click();
  await expect(page).toHaveURL(url('/i/demo/projects/acme/platform/api?sort=name_desc'));
  const names = await page.locator('table.repositories tbody tr').evaluateAll((trs) =>
    trs.map((tr) => tr.getAttribute('data-repository')),
  );
  expect(names).toEqual([
    'acme/platform/api/server',
    'acme/platform/api/migrations',
    'acme/platform/api/legacy',
  ]);
});

test('sign-out works without JavaScript', async ({ page }) => {
  await signIn(page, 'reese', '/i/demo');
  await expect(page.getByRole('heading', { name: 'Projects with container images' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1/);
});

test('tag lists read without JavaScript: a shared filtered view, the filter form, a tag page', async ({ page }) => {
  // Wait out the index with plain reloads (the page refreshes itself while indexing).
  await signIn(page, 'maria', '/i/demo/repositories/3?q=%5Ev1%5C.&re=1&sort=size_desc');
  await expect(page.getByTestId('index-progress')).toHaveCount(0, { timeout: 60_000 });
  // (The hydrated journeys may have deleted some of the 10,000 tags by now.)
  await expect(page.getByTestId('tag-summary')).toContainText(/of [\d,]+ tags match/);
  const first = await page.locator('table.tags tbody tr').first().getAttribute('data-tag');
  expect(first).toMatch(/^v1\./);
  // Plain GET form: change the filter, submit, the server renders the new view.
  await page.getByRole('searchbox', { name: 'Name' }).fill('^v2\\.');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/q=%5Ev2%5C\.&re=1&sort=size_desc/);
  const names = await page.locator('table.tags tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tag')));
  expect(names.length).toBeGreaterThan(0);
  expect(names.every((n) => /^v2\./.test(n ?? ''))).toBeTruthy();
  // A tag page, and the way back to the same list.
  await page.locator('table.tags tbody tr a.tag-name').first().click();
  await expect(page.getByTestId('pull-by-tag')).toContainText('docker pull');
  await page.getByRole('link', { name: /All tags of server/ }).click();
  await expect(page).toHaveURL(/\/i\/demo\/repositories\/3\?q=%5Ev2%5C\.&re=1&sort=size_desc$/);
});

test('a shared cleanup draft renders its preview on the server', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/cleanup/acme/web?name_regex=.*&name_regex_keep=.*&keep_n=&older_than=');
  await expect(page.getByTestId('preview-total')).toHaveText(/^0 tags deleted in 2 repositories/);
  await page.goto(url('/i/demo/cleanup/acme/web?name_regex=.*&name_regex_keep=&keep_n=&older_than='));
  await expect(page.getByTestId('preview-total')).not.toHaveText(/^0 tags deleted/);
  await expect(page.getByLabel('Remove tags matching (regex)')).toHaveValue('.*');
  // The protection rules read without JavaScript too, and the preview honours them.
  await expect(page.locator('table.rules[data-kind="tag"]')).toContainText('^stable$');
  await expect(page.locator('.preview-repo[data-repository="acme/web"] tr[data-tag="stable"]')).toContainText('protected by a tag protection rule');
});

test('storage reads without JavaScript: charts are links, the compare form is a plain GET', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/repositories/1');
  const panel = page.getByTestId('storage-panel');
  await expect(panel.getByTestId('unique-bytes')).toBeVisible();
  const bar = page.getByTestId('chart-age').locator('a.bar-row').first();
  const href = await bar.getAttribute('href');
  expect(href).toMatch(/newer=|older=/);
  await bar.click();
  await expect(page.getByTestId('tag-summary')).toContainText(/of [\d,]+ tags? match/);
  await page.goto(url('/i/demo/repositories/1/tags/v2.3.1'));
  await page.getByRole('textbox', { name: 'Compare with tag' }).fill('v2.2.1');
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(page).toHaveURL(/compare\?a=v2\.3\.1&b=v2\.2\.1$/);
  await expect(page.getByTestId('shared-bytes').first()).toBeVisible();
  // The project's storage: a plain link from the project page, figures in the HTML.
  await page.goto(url('/i/demo/projects/acme/web'));
  await page.getByTestId('project-storage-link').click();
  await expect(page.getByTestId('project-storage').getByTestId('unique-bytes')).toBeVisible();
  await expect(page.getByTestId('repository-shares').locator('tbody tr')).toHaveCount(2);
});

test('which tags are in use and dead reads without JavaScript', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/repositories/1?q=v2.3.1');
  await expect(page.locator('tr[data-tag="v2.3.1"] .badge.in-use')).toBeVisible();
  await page.getByTestId('usage-line').getByRole('link', { name: '2 dead tags' }).click();
  await expect(page).toHaveURL(url('/i/demo/repositories/1?q=v2.3.1&stale=1'));
  await expect(page.locator('table.tags tbody tr')).toHaveCount(0);
  await page.goto(url('/i/demo/repositories/1?usage=stale'));
  const names = await page.locator('table.tags tbody tr').evaluateAll((trs) =>
    trs.map((tr) => tr.getAttribute('data-tag')),
  );
  expect(names).toEqual(['perf-cache-headers', 'mr-451']);
});

test('a group’s policies and their drift read without JavaScript', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/policies/groups/acme?std_enabled=0&std_name_regex=&sort=drift');
  await expect(page.locator('table.policies-table tbody tr')).toHaveCount(3);
  await expect(page.locator('tr[data-project="acme/platform/tools"] [data-testid="drift"]')).toContainText(
    'Same',
  );
  // The filters' form is a plain GET that keeps the standard.
  await page.getByRole('combobox', { name: /^Policy/ }).selectOption('on');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/policy=on/);
  await expect(page).toHaveURL(/std_enabled=0/);
  await expect(page.locator('table.policies-table tbody tr')).toHaveCount(1);
  await expect(page.locator('tr[data-project="acme/web"] [data-testid="drift"]')).toContainText('Differs');
});

test('the review of applying a standard reads without JavaScript; applying says it needs it', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/policies/groups/acme?std_enabled=1&std_keep_n=5');
  await page.getByRole('checkbox', { name: 'Choose acme/web' }).check();
  await page.getByRole('button', { name: 'Review saving the standard in the ticked projects' }).click();
  await expect(page).toHaveURL(/\/i\/demo\/policies\/apply\/acme\?std_enabled=1&.*std_keep_n=5&.*project=1001$/);
  const web = page.locator('tr[data-project="acme/web"]');
  await expect(web.getByTestId('apply-state')).toContainText('keep');
  await expect(web.getByTestId('standard-deletes')).toContainText('tags');
  await expect(page.getByRole('button', { name: 'Apply to 1 project' })).toBeDisabled();
  await expect(page.getByText('Applying needs JavaScript')).toBeVisible();
});
