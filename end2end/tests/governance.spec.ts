import { test, expect } from '@playwright/test';
import { signIn, url, waitForHydration } from './helpers';

const POLICIES = '/i/demo/policies/groups/acme';

test('a group page compares every project with a standard typed on it, and exports it', async ({ page }) => {
  await signIn(page, 'maria', '/i/demo/groups/acme');
  await waitForHydration(page);
  await page.getByRole('link', { name: 'Cleanup policies' }).click();
  await expect(page).toHaveURL(url(POLICIES));
  await expect(page.getByRole('heading', { name: 'Cleanup policies in ACME' })).toBeVisible();
  const rows = page.locator('table.policies-table tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(page.locator('tr[data-project="acme/web"]')).toContainText('On');
  await expect(page.locator('tr[data-project="acme/platform/tools"]')).toContainText('Off');
  // A marker on window survives only client-side navigation.
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));

  // The standard: GitLab's defaults, off; the two platform projects never saved a policy.
  await page.getByText('Compare with a standard policy').click();
  const standard = page.getByRole('form', { name: 'Standard policy' });
  await standard.getByLabel('Enabled').selectOption('0');
  await standard.getByLabel('Runs').selectOption('1d');
  await standard.getByRole('combobox', { name: /^Keep/ }).selectOption('10');
  await standard.getByLabel('Older than').selectOption('90d');
  await standard.getByLabel('Delete tags matching').fill('');
  await standard.getByRole('button', { name: 'Compare' }).click();
  await expect(page).toHaveURL(/std_enabled=0&std_cadence=1d&std_keep_n=10&std_older_than=90d/);
  await expect(page.locator('tr[data-project="acme/platform/api"] [data-testid="drift"]')).toContainText('Same');
  await expect(page.locator('tr[data-project="acme/web"] [data-testid="drift"]')).toContainText('Differs');
  await expect(page.getByTestId('policies-summary')).toContainText('1 differs from the standard');

  // Only what differs; the standard stays.
  await page.getByLabel('Only projects that differ').check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/drift=1/);
  await expect(page).toHaveURL(/std_enabled=0/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-project', 'acme/web');
  expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(7);

  // The CSV export holds the same rows, as this user may read them.
  const href = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
  expect(href).toContain('/api/v1/demo/groups/acme/policies?');
  expect(href).toContain('format=csv');
  const csv = await page.request.get(url(href!));
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split('\r\n');
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatch(/^acme\/web,maintainer,/);
});

test('a developer sees which policies are on, and that only maintainers see their rules', async ({ page }) => {
  await signIn(page, 'devon', `${POLICIES}?std_enabled=1`);
  await expect(page.locator('tr[data-project="acme/web"]')).toContainText('Only Maintainers see the rules');
  await expect(page.locator('tr[data-project="acme/web"] [data-testid="drift"]')).toContainText('Unknown');
  await expect(page.getByTestId('policies-summary')).toContainText('3 unknown');
});
