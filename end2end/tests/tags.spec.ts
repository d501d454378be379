import { test, expect, Page } from '@playwright/test';
import { base, signIn, url, waitForHydration } from './helpers';

const SERVER = '/i/demo/repositories/3'; // acme/platform/api/server: 10,000 tags
const WEB_ROOT = '/i/demo/repositories/1'; // acme/web: `stable` is protected
const WORKER = '/i/demo/repositories/2'; // acme/web/worker: 15 tags

const rowNames = (page: Page) =>
  page.locator('table.tags tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tag')));

/** Waits until the repository is fully indexed (the banner goes away). */
async function indexed(page: Page) {
  await expect(page.getByTestId('index-progress')).toHaveCount(0, { timeout: 60_000 });
}

test('10,000 tags: sort by size, filter by regex, open a tag, copy its pull command, come back to the same view', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
  await signIn(page, 'olivia', SERVER);
  await waitForHydration(page);
  await indexed(page);
  await expect(page.getByTestId('tag-summary')).toHaveText('10,000 tags');

  // Sort by size, largest first, from the column header (a plain link).
  await page.getByRole('link', { name: /^Size/ }).click();
  await expect(page).toHaveURL(url(`${SERVER}?sort=size_desc`));
  await expect(page.getByRole('columnheader', { name: /Size/ })).toHaveAttribute('aria-sort', 'descending');

  // Regex filter over all tags.
  await page.getByRole('searchbox', { name: 'Name' }).fill('^v1\\.');
  await page.getByLabel('Regex (RE2)').check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(url(`${SERVER}?q=%5Ev1%5C.&re=1&sort=size_desc`));
  await expect(page.getByTestId('tag-summary')).toContainText('of 10,000 tags match');
  const names = await rowNames(page);
  expect(names.length).toBe(20);
  expect(names.every((n) => /^v1\./.test(n ?? ''))).toBeTruthy();
  const sizes = await page
    .locator('table.tags tbody tr td.num')
    .evaluateAll((tds) => tds.map((td) => td.textContent ?? ''));
  expect(sizes.length).toBe(20);

  // Open the first tag, copy its pull command.
  const first = names[0]!;
  await page.locator(`tr[data-tag="${first}"] a.tag-name`).click();
  await expect(page).toHaveURL(url(`${SERVER}/tags/${first}?q=%5Ev1%5C.&re=1&sort=size_desc`));
  await expect(page.getByRole('heading', { level: 1 })).toContainText(first);
  await waitForHydration(page);
  const pull = page.getByTestId('pull-by-tag');
  await expect(pull).toHaveText(new RegExp(`^docker pull .*/acme/platform/api/server:${first.replace(/\./g, '\\.')}$`));
  await page.getByRole('button', { name: 'Copy pull command by tag' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await pull.textContent());

  // Back to the list: the same filtered, sorted view.
  await page.getByRole('link', { name: /All tags of server/ }).click();
  await expect(page).toHaveURL(url(`${SERVER}?q=%5Ev1%5C.&re=1&sort=size_desc`));
  await expect(page.getByRole('searchbox', { name: 'Name' })).toHaveValue('^v1\\.');
  expect(await rowNames(page)).toEqual(names);
  // And the browser's back button returns to the tag.
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/tags/${first.replace(/\./g, '\\.')}\\?`));
});

test('a bad regex is explained next to the field and nothing is lost', async ({ page }) => {
  await signIn(page, 'olivia', `${WEB_ROOT}?q=v1.(&re=1`);
  await expect(page.getByRole('alert')).toContainText('Not a valid regular expression');
  await expect(page.getByRole('searchbox', { name: 'Name' })).toHaveValue('v1.(');
  await expect(page.getByRole('searchbox', { name: 'Name' })).toHaveAttribute('aria-invalid', 'true');
});

test('a shared link survives signing in: a second browser lands on the same filtered view', async ({ page, browser }) => {
  await signIn(page, 'olivia', SERVER);
  await indexed(page);
  const shared = `${SERVER}?q=main&sort=name_asc&page=2&per_page=50`;
  await page.goto(url(shared));
  const expected = await rowNames(page);
  expect(expected.length).toBe(50);

  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(url(shared));
  await expect(second).toHaveURL(/\/login\?/);
  await second.getByRole('link', { name: /Sign in with the demo GitLab/ }).click();
  await second.getByRole('button', { name: /@?maria\b/ }).first().click();
  await expect(second).toHaveURL(url(shared));
  await expect(second.getByTestId('page-label')).toHaveText('Page 2 of ' + (await page.getByTestId('page-label').textContent())!.split(' of ')[1]);
  expect(await rowNames(second)).toEqual(expected);
  await other.close();
});

test('the pager changes the page size and keeps the rows being read in sight', async ({ page }) => {
  await signIn(page, 'olivia', `${SERVER}?sort=name_asc&page=4`);
  await indexed(page);
  await waitForHydration(page);
  const before = await rowNames(page);
  expect(before.length).toBe(20);
  const sizes = page.getByRole('group', { name: 'Tags per page' });
  await expect(sizes.locator('[aria-current="true"]')).toHaveText('20 tags a page');
  await sizes.getByRole('link', { name: '50 tags a page' }).click();
  // Rows 61-80 at 20 a page are on page 2 at 50 (rows 51-100).
  await expect(page).toHaveURL(url(`${SERVER}?sort=name_asc&page=2&per_page=50`));
  await expect(page.locator('table.tags tbody tr')).toHaveCount(50);
  expect(await rowNames(page)).toEqual(expect.arrayContaining(before));
  await expect(sizes.locator('[aria-current="true"]')).toHaveText('50 tags a page');
  // Past the last page (the list shows the last one), the sizes start from the page shown.
  await page.goto(url(`${SERVER}?sort=name_asc&page=99999`));
  await waitForHydration(page);
  await expect(page.getByTestId('page-label')).toHaveText('Page 500 of 500');
  await expect(sizes.getByRole('link', { name: '100 tags a page' }))
    .toHaveAttribute('href', /page=100&per_page=100$/);
});

test('a developer selects a shift-click range and deletes exactly those tags', async ({ page }) => {
  await signIn(page, 'devon', `${WORKER}?sort=name_asc`);
  await waitForHydration(page);
  const before = await rowNames(page);
  expect(before.length).toBe(15);
  const pick = before.slice(1, 5) as string[];
  await page.getByRole('checkbox', { name: `Select ${pick[0]}` }).click();
  await page.getByRole('checkbox', { name: `Select ${pick[3]}` }).click({ modifiers: ['Shift'] });
  await expect(page.getByTestId('selection-count')).toHaveText('4 tags selected');
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete 4 tags?');
  const listed = await dialog
    .getByRole('list', { name: 'Tags to delete' })
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-tag')));
  expect(listed).toEqual(pick);
  await dialog.getByRole('button', { name: 'Delete 4 tags' }).click();
  await expect(dialog.getByRole('status')).toHaveText('4 tags deleted.');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('tag-summary')).toHaveText('11 tags');
  const after = await rowNames(page);
  expect(after).toEqual(before.filter((n) => !pick.includes(n as string)));
});

test('a reporter sees deletion disabled, with the reason', async ({ page }) => {
  await signIn(page, 'reese', WORKER);
  await waitForHydration(page);
  await expect(page.getByTestId('delete-refusal')).toContainText('needs the Developer role; yours is Reporter');
  const deletes = page.locator('table.tags tbody tr td.actions button');
  expect(await deletes.count()).toBeGreaterThan(0);
  for (const button of await deletes.all()) await expect(button).toBeDisabled();
  await expect(page.locator('table.tags tbody input[type=checkbox]').first()).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Delete repository…' })).toBeDisabled();
});

test('deleting a protected tag shows the warning first and GitLab’s refusal after', async ({ page }) => {
  await signIn(page, 'devon', `${WEB_ROOT}?q=stable`);
  await waitForHydration(page);
  const row = page.locator('tr[data-tag="stable"]');
  await expect(row.locator('.badge', { hasText: 'protected' })).toBeVisible();
  // The row's own delete button is disabled for a developer: the rule needs a maintainer.
  await expect(row.getByRole('button', { name: 'Delete stable' })).toBeDisabled();
  // Selected anyway, the confirmation says GitLab will refuse it, and GitLab does.
  await row.getByRole('checkbox').click();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('will be refused');
  await expect(dialog).toContainText('same image as latest, v2.3.1');
  await dialog.getByRole('button', { name: 'Delete tag' }).click();
  await expect(dialog.getByRole('status')).toContainText('0 tags deleted, 1 not deleted');
  await expect(dialog.locator('li[data-tag="stable"]')).toContainText('Protected tags cannot be deleted');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.locator('tr[data-tag="stable"]')).toBeVisible();
});

test('select all matching: a big selection must be confirmed by typing its count', async ({ page }) => {
  await signIn(page, 'maria', `${SERVER}?q=%5Ev1%5C.&re=1`);
  await waitForHydration(page);
  await indexed(page);
  const summary = (await page.getByTestId('tag-summary').textContent()) ?? '';
  const matching = Number(summary.split(' of ')[0].replace(/,/g, ''));
  expect(matching).toBeGreaterThan(20);
  await page.getByRole('button', { name: 'Select all matching' }).click();
  await expect(page.getByTestId('selection-count')).toHaveText(`${matching.toLocaleString('en-US')} tags selected`);
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('list', { name: 'Tags to delete' }).locator('li')).toHaveCount(matching);
  const confirm = dialog.getByRole('button', { name: /^Delete [\d,]+ tags$/ });
  await expect(confirm).toBeDisabled();
  await dialog.getByTestId('confirm-count').fill(String(matching - 1));
  await expect(confirm).toBeDisabled();
  await dialog.getByTestId('confirm-count').fill(String(matching));
  await expect(confirm).toBeEnabled();
  // Escape closes without deleting anything.
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.getByTestId('tag-summary')).toHaveText(summary);
});

test('a maintainer deletes a repository after typing its path', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/repositories/4'); // acme/platform/api/migrations
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Delete repository…' }).click();
  const dialog = page.getByRole('dialog');
  const confirm = dialog.getByRole('button', { name: 'Delete repository' });
  await expect(confirm).toBeDisabled();
  await dialog.getByTestId('confirm-path').fill('acme/platform/api/migration');
  await expect(confirm).toBeDisabled();
  await dialog.getByTestId('confirm-path').fill('acme/platform/api/migrations');
  await confirm.click();
  await expect(dialog.getByRole('status')).toContainText('scheduled for deletion');
  // The confirm button is gone: the focus moves to Done, and Enter closes the dialog.
  await expect(dialog.getByRole('button', { name: 'Done' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page.locator('.page-head .badge.danger')).toHaveText('Scheduled for deletion');
  await expect(page.getByRole('button', { name: 'Delete repository…' })).toBeDisabled();
});

test('a long deletion shows its progress and reports every tag', async ({ page }) => {
  // Runs last in this file: the other journeys need the main-0… tags of this repository.
  await signIn(page, 'maria', `${SERVER}?q=%5Emain-0&re=1`);
  await waitForHydration(page);
  await indexed(page);
  const summary = (await page.getByTestId('tag-summary').textContent()) ?? '';
  const matching = Number(summary.split(' of ')[0].replace(/,/g, ''));
  expect(matching).toBeGreaterThan(100);
  await page.getByRole('button', { name: 'Select all matching' }).click();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByTestId('confirm-count').fill(String(matching));
  await dialog.getByRole('button', { name: `Delete ${matching} tags` }).click();
  await expect(dialog.locator('.delete-progress')).toContainText(`of ${matching}`);
  await expect(dialog.locator('.delete-summary')).toHaveText(`${matching} tags deleted.`, { timeout: 60_000 });
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('heading', { name: 'No tags match these filters' })).toBeVisible();
});

test('GitLab’s context: tags in use carry why, dead tags have a filter, the dialog warns', async ({ page }) => {
  await signIn(page, 'devon', WEB_ROOT);
  await waitForHydration(page);
  // The production image is in use, with its reasons (v2.3.1 is the 18th newest of the
  // demo's web images, on the first page of 20).
  const line = page.getByTestId('usage-line');
  await expect(line).toContainText('GitLab says:');
  const release = page.locator('tr[data-tag="v2.3.1"] .badge.in-use');
  await expect(release).toHaveText(/^in use/);
  await expect(release).toHaveAttribute('title', /v2\.3\.1, deployed to production .* ago/);

  // The dead tags, from the line's count: a merged merge request's images.
  await line.getByRole('link', { name: '2 dead tags' }).click();
  await expect(page).toHaveURL(url(`${WEB_ROOT}?stale=1`));
  await expect(page.getByTestId('tag-summary')).toHaveText('2 of 73 tags match');
  expect(await rowNames(page)).toEqual(['perf-cache-headers', 'mr-451']);
  await expect(page.locator('tr[data-tag="mr-451"] .badge.dead')).toHaveAttribute(
    'title',
    'built from branch perf/cache-headers of merge request !451 (merged), which no longer exists',
  );
  // Deleting them goes through the usual confirmation, with nothing in use to warn about.
  await waitForHydration(page);
  await page.getByRole('checkbox', { name: 'Select every tag on this page' }).check();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  let dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete 2 tags?');
  await expect(dialog.getByRole('list', { name: 'Tags to delete' })).toBeVisible();
  await expect(dialog.getByTestId('in-use-warning')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // The filter form offers the same, and the in-use filter keeps only tags in use.
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.goto(url(WEB_ROOT));
  await waitForHydration(page);
  await page.getByText('More filters').click();
  await page.getByLabel('GitLab says').selectOption('in_use');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(url(`${WEB_ROOT}?in_use=1`));
  const inUse = await rowNames(page);
  expect(inUse).toContain('v2.3.1');
  expect(inUse).not.toContain('mr-451');
  await expect(page.locator('table.tags tbody tr .badge.in-use')).toHaveCount(inUse.length);

  // Deleting the running release: the dialog says why it is in use before anything goes.
  await page.locator('tr[data-tag="v2.3.1"]').getByRole('button', { name: 'Delete v2.3.1' }).click();
  dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('in-use-warning')).toContainText('1 tag is in use, GitLab says');
  await expect(dialog.locator('li[data-tag="v2.3.1"]')).toContainText('deployed to production');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('tr[data-tag="v2.3.1"]')).toBeVisible();

  // The tag's page lists every reason.
  await page.locator('tr[data-tag="v2.3.1"] a.tag-name').click();
  const fact = page.getByTestId('usage-fact');
  await expect(fact).toContainText('In use');
  await expect(fact.locator('li')).toContainText([/deployed to production/, /pipeline #\d+/, 'release v2.3.1']);
});
