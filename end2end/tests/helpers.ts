import { expect, Page, BrowserContext } from '@playwright/test';

export const base = () => process.env.BASE_URL!;
export const gitlab = () => process.env.GITLAB_URL!;
export const url = (p: string) => `${base()}${p}`;

/** Signs in through the real OAuth flow: our sign-in page, GitLab's (double's) user picker. */
export async function signIn(page: Page, user: string, startPath = '/i/demo') {
  await page.goto(url(startPath));
  await expect(page).toHaveURL(/\/login\?/);
  await page.getByRole('link', { name: /Sign in with the demo GitLab/ }).click();
  await expect(page).toHaveURL(new RegExp(`^${gitlab()}/oauth/authorize`));
  await page.getByRole('button', { name: new RegExp(`@?${user}\\b`) }).first().click();
  await page.waitForURL((u) => u.toString().startsWith(base()) && !u.pathname.startsWith('/auth/'));
}

/** Waits until the wasm bundle has hydrated the page (copy buttons come alive then). */
export async function waitForHydration(page: Page) {
  await page.waitForFunction(() => {
    const theme = document.querySelector('.theme-toggle') as HTMLButtonElement | null;
    return theme !== null && !theme.disabled;
  });
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?signed_out=1/);
}

export async function setDoubleControls(context: BrowserContext, controls: Record<string, unknown>) {
  const response = await context.request.post(`${gitlab()}/-/double/controls`, { data: controls });
  expect(response.ok()).toBeTruthy();
}
