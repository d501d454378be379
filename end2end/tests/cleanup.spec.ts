import { test, expect } from '@playwright/test';
import { signIn, url, waitForHydration } from './helpers';

const EDITOR = '/i/demo/cleanup/acme/web';

test('the preview follows the draft as the maintainer types, without a page load; save; share', async ({ page, browser }) => {
  await signIn(page, 'maria', EDITOR);
  await waitForHydration(page);
  const total = page.getByTestId('preview-total');
  await expect(total).toContainText('tags deleted in 2 repositories');
  // No page load while editing: a marker on window survives only client-side navigation.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

  // Keep nothing by age or count, delete everything but semver: many tags go.
  await page.getByLabel('Keep the most recent').selectOption('');
  await page.getByLabel('Remove tags older than').selectOption('');
  await expect(page).toHaveURL(/keep_n=&older_than=/);
  const broad = (await total.textContent()) ?? '';
  const broadCount = Number(broad.split(' ')[0].replace(/,/g, ''));
  expect(broadCount).toBeGreaterThan(20);

  // A keep regex that keeps everything: nothing is deleted.
  const keep = page.getByLabel('Keep tags matching (regex; wins over remove)');
  await keep.fill('.*');
  await expect(total).toHaveText(/^0 tags deleted in 2 repositories/);
  await keep.fill('(v|feature-).*');
  await expect(total).not.toHaveText(/^0 tags deleted/);
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  // The diff against the saved policy is called out per repository.
  await expect(page.locator('.preview-repo').first()).toContainText('newly deleted');

  // The draft is in the URL: another browser shows the same preview.
  const draftUrl = page.url();
  const draftTotal = await total.textContent();
  const other = await browser.newContext();
  const second = await other.newPage();
  await signIn(second, 'maria', draftUrl.replace(url(''), ''));
  await expect(second.getByTestId('preview-total')).toHaveText(draftTotal!);
  await other.close();

  // Save, reload: GitLab has the new policy.
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page).toHaveURL(url(EDITOR));
  await page.reload();
  await expect(page.getByLabel('Keep tags matching (regex; wins over remove)')).toHaveValue('(v|feature-).*');
  await expect(page.getByLabel('Keep the most recent')).toHaveValue('');
});

test('a bad regex is explained on its field and the preview waits for a valid one', async ({ page }) => {
  await signIn(page, 'maria', `${EDITOR}?name_regex=v1.%28`);
  await expect(page.getByRole('alert').first()).toContainText('regular expression');
  await expect(page.getByText('Fix the policy to see its preview.')).toBeVisible();
});

test('a developer sees the policy read-only, with the reason', async ({ page }) => {
  await signIn(page, 'devon', EDITOR);
  await waitForHydration(page);
  await expect(page.getByTestId('read-only')).toContainText('needs the Maintainer role');
  await expect(page.getByLabel('Keep tags matching (regex; wins over remove)')).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Save policy' })).toBeDisabled();
});

test('the preview can list only the tags that would be deleted, and that view is in the URL too', async ({ page }) => {
  await signIn(page, 'devon', `${EDITOR}?name_regex=feature-.*&name_regex_keep=&keep_n=&older_than=&show=deleted`);
  await waitForHydration(page);
  const rows = page.locator('.preview-repo tr[data-decision]');
  expect(await rows.count()).toBeGreaterThan(0);
  for (const decision of await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-decision')))) {
    expect(decision).toBe('delete');
  }
  await page.getByTestId('toggle-deleted').click();
  await expect(page).not.toHaveURL(/show=deleted/);
  await expect(page.locator('.preview-repo tr[data-decision="keep"]').first()).toBeAttached();
});

test('a maintainer protects a tag with a rule, the preview skips it at once, and deleting the rule undoes it', async ({ page }) => {
  await signIn(page, 'maria', `${EDITOR}?name_regex=.*&name_regex_keep=&keep_n=&older_than=`);
  await waitForHydration(page);
  const row = page.locator('.preview-repo[data-repository="acme/web"] tr[data-tag="v2.3.1"]');
  await expect(row).toHaveAttribute('data-decision', 'delete');
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  const form = page.getByRole('form', { name: 'Add a tag rule' });
  const pattern = form.getByLabel('Pattern');
  // GitLab's rules are checked while typing: RE2 only.
  await pattern.fill('(?=v)2');
  await expect(form.getByTestId('rule-error')).toContainText('RE2');
  await expect(pattern).toHaveAttribute('aria-invalid', 'true');
  await expect(form.getByRole('button', { name: 'Add rule' })).toBeDisabled();
  await pattern.fill('^v2\\.3\\.1$');
  await expect(form.getByTestId('rule-coverage')).toContainText('Matches 1 tag: v2.3.1');
  await form.getByRole('button', { name: 'Add rule' }).click();

  const rule = page.locator('table.rules[data-kind="tag"] tbody tr', { hasText: '^v2\\.3\\.1$' });
  await expect(rule).toBeVisible();
  await expect(page.locator('.rules-panel [role="status"]')).toContainText('protected');
  await expect(row).toHaveAttribute('data-decision', 'keep');
  await expect(row).toContainText('protected by a tag protection rule (skipped)');

  // GitLab has it: a reload lists it.
  await page.reload();
  await waitForHydration(page);
  await expect(rule).toBeVisible();
  await expect(row).toHaveAttribute('data-decision', 'keep');

  // A half-typed repository rule survives changes to the tag rules.
  const repoPattern = page.getByRole('form', { name: 'Add a repository rule' }).getByLabel('Pattern');
  await repoPattern.fill('acme/web/wor*');
  await expect(page.getByRole('form', { name: 'Add a repository rule' }).getByTestId('rule-coverage')).toContainText('Matches 1 repository: acme/web/worker');
  await rule.getByRole('button', { name: 'Delete rule ^v2\\.3\\.1$' }).click();
  await rule.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(rule).toHaveCount(0);
  await expect(row).toHaveAttribute('data-decision', 'delete');
  await expect(repoPattern).toHaveValue('acme/web/wor*');

  // Run now would run as Maria: a Maintainer may delete `stable` (its rule asks for a
  // Maintainer), which the scheduled cleanup skips; the dialog says so. Repositories can be
  // left out, and the count to type follows. Nothing is run here.
  await page.getByTestId('run-now').click();
  const dialog = page.getByRole('dialog', { name: 'Run the cleanup now?' });
  await expect(dialog.getByTestId('run-unprotected')).toContainText('stable');
  await expect(dialog.getByTestId('run-summary')).toContainText('in 2 repositories');
  const before = Number((await dialog.locator('label.field strong').textContent())!.replace(/,/g, ''));
  await dialog.getByRole('checkbox', { name: 'acme/web/worker' }).uncheck();
  await expect(dialog.getByTestId('run-summary')).toContainText('in 1 repository');
  await expect(dialog.locator('label.field strong')).not.toHaveText(String(before));
  // Tab stays inside the dialog; Escape closes it and focus returns to "Run now…".
  for (let i = 0; i < 12; i++) await page.keyboard.press('Tab');
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('run-now')).toBeFocused();
});

test('Run now deletes what the preview showed, after a typed count, and GitLab refuses a second run within the hour', async ({ page }) => {
  const cli = '/i/demo/cleanup/opensource/cli?name_regex=edge-.*&name_regex_keep=&keep_n=&older_than=';
  await signIn(page, 'maria', cli);
  await waitForHydration(page);
  const total = page.getByTestId('preview-total');
  await expect(total).toHaveText(/^5 tags deleted in 1 repository/);

  await page.getByTestId('run-now').click();
  const dialog = page.getByRole('dialog', { name: 'Run the cleanup now?' });
  await expect(dialog).toContainText('GitLab will delete 5 tags in 1 repository');
  await expect(dialog).toContainText('not saved');
  const run = dialog.getByRole('button', { name: 'Delete 5 tags now' });
  await expect(run).toBeDisabled();
  await dialog.getByTestId('confirm-run').fill('4');
  await expect(run).toBeDisabled();
  await dialog.getByTestId('confirm-run').fill('5');
  await run.click();
  await expect(dialog.getByTestId('run-report')).toContainText('GitLab is deleting 5 tags in the background');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(dialog).toHaveCount(0);
  // The page looks again once GitLab has deleted them.
  await expect(total).toHaveText(/^0 tags deleted in 1 repository/, { timeout: 20_000 });

  // A second run in the same repository within the hour: GitLab's refusal, in its words.
  await page.goto(url('/i/demo/cleanup/opensource/cli?name_regex=v0%5C.1%5C.0&name_regex_keep=&keep_n=&older_than='));
  await waitForHydration(page);
  await expect(total).toHaveText(/^1 tag deleted in 1 repository/);
  await page.getByTestId('run-now').click();
  await dialog.getByTestId('confirm-run').fill('1');
  await dialog.getByRole('button', { name: 'Delete 1 tag now' }).click();
  await expect(dialog.getByTestId('run-report')).toContainText('at most once an hour');
  await dialog.getByRole('button', { name: 'Done' }).click();
  await expect(total).toHaveText(/^1 tag deleted in 1 repository/);
});

test('a policy that deletes thousands of tags says GitLab may need several runs, and when the first is due', async ({
  page,
}) => {
  await signIn(page, 'maria', '/i/demo/cleanup/acme/platform/api?enabled=1&name_regex=main-.*&name_regex_keep=&keep_n=&older_than=');
  await waitForHydration(page);
  const server = page.locator('.preview-repo[data-repository="acme/platform/api/server"]');
  await expect(server.getByTestId('repo-counts')).toContainText('deleted');
  await server.locator('summary').first().click();
  const plan = server.locator('.warnings li[data-code="several_runs"]');
  // The demo GitLab has the metadata database: only a time budget cuts a run.
  await expect(plan).toContainText('GitLab runs cleanups within a time budget');
  await expect(plan).toContainText(/may take several runs, the first due around \d{4}-\d{2}-\d{2}/);
});

test('the preview flags a draft that deletes the running release, and the suggested keep regex clears it', async ({
  page,
}) => {
  // Every v2 release, nothing kept by name, count or age.
  await signIn(page, 'maria', `${EDITOR}?name_regex=v2%5C..*&name_regex_keep=&keep_n=&older_than=`);
  await waitForHydration(page);
  const warning = page.locator('.preview-repo li.warning[data-code="deletes_in_use"]').first();
  await expect(warning).toContainText('running in environment production');
  await expect(warning).toContainText('v2.3.1');
  const suggestion = page.getByTestId('in-use-suggestion');
  await expect(suggestion).toContainText('This draft deletes 11 tags in use.');
  await expect(suggestion.locator('code')).toContainText('v2\\.3\\.1');
  await suggestion.getByRole('link', { name: 'Use this keep regex' }).click();
  await expect(page).toHaveURL(/name_regex_keep=%28%3F:v2%5C.0%5C.0%7C/);
  await expect(page.getByLabel('Keep tags matching (regex; wins over remove)')).toHaveValue(/^\(\?:v2\\\.0\\\.0\|/);
  await expect(page.getByTestId('in-use-suggestion')).toHaveCount(0);
  await expect(page.locator('.preview-repo li.warning[data-code="deletes_in_use"]')).toHaveCount(0);
  await expect(page.getByTestId('preview-total')).toHaveText(/^0 tags deleted in 2 repositories/);
});
