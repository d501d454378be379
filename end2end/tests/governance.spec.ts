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
  await expect(page.getByTestId('policies-summary')).toContainText('2 unknown');
});

test('a standard is reviewed, then applied to two projects: saved where devon maintains, refused where he develops', async ({ page }) => {
  const standard = 'std_enabled=1&std_cadence=7d&std_keep_n=5&std_older_than=30d&std_name_regex=.*';
  await signIn(page, 'devon', `${POLICIES}?${standard}`);
  await waitForHydration(page);
  await page.getByRole('checkbox', { name: 'Choose acme/web' }).check();
  await page.getByRole('checkbox', { name: 'Choose acme/platform/tools' }).check();
  await page.getByRole('button', { name: 'Review saving the standard in the ticked projects' }).click();
  await expect(page).toHaveURL(/\/i\/demo\/policies\/apply\/acme\?std_enabled=1&.*&project=1003&project=1001$/);
  await expect(page.getByRole('heading', { name: 'Apply a standard policy in ACME' })).toBeVisible();

  // The review: what changes where, what each policy deletes, who is left out and why.
  const web = page.locator('tr[data-project="acme/web"]');
  await expect(web.getByTestId('apply-state')).toContainText('Not applied');
  await expect(web).toContainText('needs the Maintainer role; yours is Developer');
  const tools = page.locator('tr[data-project="acme/platform/tools"]');
  await expect(tools).toContainText('Maintainer');
  await expect(tools.getByTestId('apply-state')).toContainText('keep, older than');
  await expect(tools.getByTestId('own-deletes')).toContainText('0 tags');
  await expect(tools.getByTestId('standard-deletes')).toContainText('0 tags');
  await expect(page.getByTestId('apply-summary')).toContainText('changes 1 of 2 projects');

  // The group's path, typed, and nothing else.
  const apply = page.getByRole('button', { name: 'Apply to 1 project' });
  await expect(apply).toBeDisabled();
  await page.getByTestId('confirm-apply').fill('acme/web');
  await expect(apply).toBeDisabled();
  await page.getByTestId('confirm-apply').fill('acme');
  await apply.click();
  const report = page.getByTestId('apply-outcomes');
  await expect(report).toContainText('GitLab saved the standard in 1 of 2 projects');
  await expect(report.locator('li[data-project="acme/platform/tools"]')).toContainText('Saved');
  await expect(report.locator('li[data-project="acme/web"]')).toContainText('Not applied');

  // Back on the group's page, with the standard: tools has it now.
  await report.getByRole('link', { name: "Back to the group's policies" }).click();
  await expect(page).toHaveURL(url(`${POLICIES}?${standard.replace('.*', '.%2A')}&std_name_regex_keep=`));
  await expect(page.locator('tr[data-project="acme/platform/tools"] [data-testid="drift"]')).toContainText('Same');

  // Tools back as the demo has it (GitLab's defaults, off), the same way.
  await page.goto(url('/i/demo/policies/apply/acme?std_enabled=0&std_name_regex=&project=1003'));
  await expect(page.locator('tr[data-project="acme/platform/tools"] [data-testid="apply-state"]')).toContainText('fields');
  await waitForHydration(page);
  await page.getByTestId('confirm-apply').fill('acme');
  await page.getByRole('button', { name: 'Apply to 1 project' }).click();
  await expect(page.getByTestId('apply-outcomes')).toContainText('GitLab saved the standard in 1 of 1 project');
});

test('an administrator finds every project’s policy from the groups page', async ({ page }) => {
  await signIn(page, 'ada', '/i/demo/groups');
  await page.getByRole('link', { name: 'cleanup policies of every project' }).click();
  await expect(page).toHaveURL(url('/i/demo/policies'));
  await expect(page.getByRole('heading', { name: 'Cleanup policies of every project' })).toBeVisible();
  await expect(page.locator('table.policies-table tbody tr')).toHaveCount(5);
  // A personal project of someone else, with its rules: an administrator reads them all.
  await expect(page.locator('tr[data-project="olivia/secret"]')).toContainText('Administrator');
  await expect(page.locator('tr[data-project="olivia/secret"]')).toContainText('keep 1');
  // A group's member who is no administrator is not offered it.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'maria', '/i/demo/groups');
  await expect(page.getByRole('heading', { name: 'Groups' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'cleanup policies of every project' })).toHaveCount(0);
});
