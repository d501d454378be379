import { test, expect, Page, Locator } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, url, waitForHydration } from './helpers';

// Every page through axe-core (WCAG 2.1 A and AA rules) in the light and the dark theme,
// hydrated: no serious or critical violation. Then the two keyboard-only journeys: the tag
// list (select a range, open the deletion dialog, confirm) and the policy editor.

const PAGES = [
  '/i/demo',
  '/i/demo/groups',
  '/i/demo/groups/acme',
  '/i/demo/policies/groups/acme?std_enabled=1&std_cadence=7d',
  '/i/demo/policies/apply/acme?std_enabled=1&std_cadence=7d&project=1001&project=1003',
  '/i/demo/projects/acme/web',
  '/i/demo/repositories/2?sort=name_asc',
  '/i/demo/repositories/1/tags/v2.3.1',
  '/i/demo/repositories/1/compare?a=v2.2.1&b=v2.3.1',
  '/i/demo/cleanup/acme/web',
  '/i/demo/storage/acme/web',
  '/i/demo/credentials/projects/acme/web',
  '/i/demo/health',
];

type Theme = 'light' | 'dark';

/** Serious and critical WCAG 2.1 A/AA violations on the page as it is now. */
async function violations(page: Page, include?: string): Promise<string[]> {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes
          .map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`)
          .join('\n    ')}`,
    );
}

async function useTheme(page: Page, theme: Theme) {
  await page.emulateMedia({ colorScheme: theme });
  await page.addInitScript((t) => localStorage.setItem('theme', t), theme);
}

for (const theme of ['light', 'dark'] as Theme[]) {
  test(`every page passes axe-core in the ${theme} theme`, async ({ page }) => {
    test.setTimeout(180_000);
    await useTheme(page, theme);
    // Every page's findings, reported together at the end.
    const found: Record<string, string[]> = {};
    const scan = async (what: string, include?: string) => {
      const v = await violations(page, include);
      if (v.length > 0) found[what] = v;
    };
    // Signed out first: the sign-in page.
    await page.goto(url('/login'));
    await scan('/login');

    await signIn(page, 'maria', '/i/demo');
    for (const path of PAGES) {
      await page.goto(url(path));
      await test.step(`${path} hydrates`, () => waitForHydration(page));
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      // Wait for anything still loading (previews, storage, estimates) to settle.
      await expect(page.locator('[aria-busy="true"]')).toHaveCount(0, { timeout: 30_000 });
      await scan(path);
    }

    // A page that does not exist (no header, so no hydration marker to wait for).
    await page.goto(url('/i/demo/no-such-page'));
    await page.waitForLoadState('networkidle');
    await scan('not found');

    // The deletion dialog, open.
    await page.goto(url('/i/demo/repositories/2?sort=name_asc'));
    await waitForHydration(page);
    await page.locator('table.tags tbody input[type=checkbox]').first().check();
    await page.getByRole('button', { name: 'Delete selected…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('list', { name: 'Tags to delete' })).toBeVisible();
    await scan('deletion dialog', '[role=dialog]');
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    expect(found).toEqual({});
  });
}

/** Presses Tab (or Shift+Tab) until `target` has the focus; fails after `max` presses. */
async function tabTo(page: Page, target: Locator, { back = false, max = 80 } = {}) {
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`Tab never reached ${target}`);
}

test('keyboard only: select a range of tags, open the deletion dialog, confirm', async ({ page }) => {
  // olivia/secret (7 tags), which no other journey changes.
  await signIn(page, 'olivia', '/i/demo/repositories/6?sort=name_asc');
  await waitForHydration(page);
  const names = (await page
    .locator('table.tags tbody tr')
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tag')))) as string[];
  expect(names.length).toBe(7);
  const pick = names.slice(1, 4);

  // Space ticks a row; Shift+Space on a later row ticks the range between.
  await tabTo(page, page.getByRole('checkbox', { name: `Select ${pick[0]}` }));
  await page.keyboard.press('Space');
  await tabTo(page, page.getByRole('checkbox', { name: `Select ${pick[2]}` }));
  await page.keyboard.press('Shift+Space');
  await expect(page.getByTestId('selection-count')).toHaveText('3 tags selected');

  // The dialog opens with the focus inside, and Tab stays inside.
  await tabTo(page, page.getByRole('button', { name: 'Delete selected…' }), { back: true });
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('heading')).toHaveText('Delete 3 tags?');
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  const listed = await dialog
    .getByRole('list', { name: 'Tags to delete' })
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-tag')));
  expect(listed).toEqual(pick);
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBeTruthy();
  }
  const confirm = dialog.getByRole('button', { name: 'Delete 3 tags' });
  await tabTo(page, confirm);
  await page.keyboard.press('Enter');
  await expect(dialog.getByRole('status')).toHaveText('3 tags deleted.');
  await expect(dialog.getByRole('button', { name: 'Done' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId('tag-summary')).toHaveText('4 tags');
  const after = await page
    .locator('table.tags tbody tr')
    .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-tag')));
  expect(after).toEqual(names.filter((n) => !pick.includes(n)));
});

test('keyboard only: edit a policy, the preview follows, save it', async ({ page }) => {
  await signIn(page, 'olivia', '/i/demo/cleanup/olivia/secret');
  await waitForHydration(page);
  const total = page.getByTestId('preview-total');
  const before = await total.textContent();

  // Turn the policy on and keep only the most recent tag: arrows change a focused select.
  await tabTo(page, page.getByRole('checkbox', { name: 'Enabled' }));
  if (!(await page.getByRole('checkbox', { name: 'Enabled' }).isChecked())) await page.keyboard.press('Space');
  const keep = page.getByRole('combobox', { name: 'Keep the most recent' });
  await tabTo(page, keep);
  await keep.press('Home'); // "Any number of tags"
  await keep.press('ArrowDown');
  await expect(page).toHaveURL(/keep_n=1(&|$)/);
  const older = page.getByRole('combobox', { name: 'Remove tags older than' });
  await tabTo(page, older);
  await older.press('Home'); // "Any age"
  await older.press('ArrowDown');
  await expect(page).toHaveURL(/older_than=7d(&|$)/);
  // Without a delete regex GitLab deletes nothing: type one.
  const remove = page.getByRole('textbox', { name: 'Remove tags matching (regex)' });
  await tabTo(page, remove);
  await page.keyboard.type('.*');
  await expect(page).toHaveURL(/name_regex=\.(\*|%2A)(&|$)/);
  await expect(total).not.toHaveText(before ?? '');
  await expect(total).toContainText(/^\d+ tags? deleted/);

  const save = page.getByRole('button', { name: 'Save policy' });
  await tabTo(page, save);
  await page.keyboard.press('Enter');
  await expect(page.getByText(/^Saved\. GitLab runs it next/)).toBeVisible();
});
