import { test, expect } from '@playwright/test';
import { signIn, url, waitForHydration } from './helpers';

const WEB_ROOT = '/i/demo/repositories/1'; // acme/web: node base, sidecars, families

test('storage truth: deduplicated figures, a comparison of two tags, an honest deletion estimate, a chart bar that filters', async ({
  page,
}) => {
  await signIn(page, 'maria', `${WEB_ROOT}?sort=name_asc&per_page=100`);
  await waitForHydration(page);
  const panel = page.getByTestId('storage-panel');
  await expect(panel.getByTestId('unique-bytes')).toBeVisible();
  await expect(panel.getByTestId('naive-sum')).toContainText(/GiB|MiB/);
  await expect(panel.getByTestId('largest-layers').locator('tbody tr').first()).toBeVisible();

  // Two tags, compared layer by layer; the URL names both.
  await page.getByRole('checkbox', { name: 'Select v2.2.1', exact: true }).click();
  await page.getByRole('checkbox', { name: 'Select v2.3.1', exact: true }).click();
  await page.getByTestId('compare-selected').click();
  await expect(page).toHaveURL(/\/repositories\/1\/compare\?a=v2\.2\.1&b=v2\.3\.1$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Compare v2.2.1 and v2.3.1');
  await expect(page.getByTestId('shared-bytes').first()).not.toHaveText('0 B');
  await expect(page.locator('tr[data-side="shared"]').first()).toBeVisible();
  await expect(page.locator('tr[data-side="only-a"]').first()).toBeVisible();
  await page.getByRole('link', { name: 'Swap sides' }).click();
  await expect(page).toHaveURL(/a=v2\.3\.1&b=v2\.2\.1$/);
  await page.goto(url(`${WEB_ROOT}?sort=name_asc&per_page=100`));
  await waitForHydration(page);

  // Deleting one build frees its own layers, not its size: the dialog says both.
  await page.getByRole('checkbox', { name: 'Select v2.2.1', exact: true }).click();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByTestId('frees')).toContainText('Frees about');
  await expect(dialog.getByTestId('naive-bytes')).toContainText('Adding up the tags’ sizes would say');
  const freed = await dialog.getByTestId('freed-bytes').textContent();
  expect(freed).toMatch(/\d/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  // A chart bar opens the list filtered to exactly the tags it counts.
  const bar = page.getByTestId('chart-family').locator('a.bar-row', { hasText: 'Versions' });
  const counted = (await bar.locator('.bar-value').textContent())!.match(/^([\d,]+) tags?/)![1]!;
  await bar.click();
  await expect(page).toHaveURL(/family=semver/);
  await expect(page.getByTestId('tag-summary')).toContainText(new RegExp(`^${counted} of [\\d,]+ tags? match`));
});

test('a signed release lists its sidecar tags, and the tag page compares with another tag', async ({ page }) => {
  await signIn(page, 'maria', `${WEB_ROOT}/tags/v2.3.1`);
  await waitForHydration(page);
  const sidecars = page.getByTestId('sidecar-tags');
  await expect(sidecars.locator('li')).toHaveCount(3);
  await expect(sidecars).toContainText('signature');
  await page.getByRole('textbox', { name: 'Compare with tag' }).fill('latest');
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  await expect(page).toHaveURL(/compare\?a=v2\.3\.1&b=latest$/);
  await expect(page.getByTestId('same-image')).toBeVisible();
});

test('the cleanup preview says what a draft really frees, and follows the draft', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/cleanup/acme/web?name_regex=feature-.*&name_regex_keep=&keep_n=&older_than=');
  await waitForHydration(page);
  const frees = page.getByTestId('cleanup-frees');
  await expect(frees).toContainText('Frees about');
  const before = await page.getByTestId('cleanup-freed-bytes').textContent();
  // Everything but the keep regex: more goes, and the figure follows.
  await page.getByRole('textbox', { name: /Remove tags matching/ }).fill('.*');
  await expect(page.getByTestId('cleanup-freed-bytes')).not.toHaveText(before!);
  await expect(frees).toContainText('the saved policy');
});

test('a project counts each layer once across its repositories, and each repository opens from there', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/projects/acme/web');
  await waitForHydration(page);
  await page.getByTestId('project-storage-link').click();
  await expect(page).toHaveURL(/\/i\/demo\/storage\/acme\/web$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Storage');
  const storage = page.getByTestId('project-storage');
  await expect(storage.getByTestId('unique-bytes')).toContainText(/MiB|GiB/);
  // Reading finishes by itself (the page polls): then GitLab's figure agrees with ours.
  await expect(storage.getByTestId('storage-progress')).toHaveCount(0, { timeout: 20_000 });
  await expect(storage.getByTestId('gitlab-size')).toHaveText((await storage.getByTestId('unique-bytes').textContent())!);
  // Both repositories build on debian-slim: adding their figures counts its layers twice.
  await expect(storage.locator('dd', { hasText: 'counts layers the repositories share once per repository' })).toBeVisible();
  const shares = storage.getByTestId('repository-shares');
  await expect(shares.locator('tbody tr')).toHaveCount(2);
  await expect(shares).toContainText('all read');
  await expect(storage.getByTestId('largest-layers').getByRole('columnheader', { name: 'Repositories' })).toBeVisible();
  await shares.getByRole('link', { name: 'acme/web/worker' }).click();
  await expect(page).toHaveURL(/\/i\/demo\/repositories\/2$/);
});
