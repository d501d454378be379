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
