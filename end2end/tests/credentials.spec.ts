import { test, expect, Response } from '@playwright/test';
import fs from 'node:fs';
import { base, setDoubleControls, signIn, url, waitForHydration } from './helpers';

const WORKER = '/i/demo/repositories/2'; // acme/web/worker

test('a Maintainer creates a deploy token, copies the Kubernetes secret, and the token goes nowhere else', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
  // Every answer the BFF sends this browser, read in full.
  const bodies: Promise<{ url: string; text: string }>[] = [];
  page.on('response', (r: Response) => {
    if (r.url().startsWith(base())) {
      bodies.push(r.text().then((text) => ({ url: r.url(), text }), () => ({ url: r.url(), text: '' })));
    }
  });
  await signIn(page, 'maria', WORKER);
  await waitForHydration(page);
  await expect(page.getByTestId('pull-by-tag')).toContainText('docker pull registry.gitlab.test:5050/acme/web/worker');
  await page.getByTestId('credentials-link').click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Pull credentials');
  await waitForHydration(page);
  // The seeded tokens are listed with their state, never a value.
  await expect(page.locator('tr[data-token="production-pull"]')).toContainText('expires in');
  await expect(page.locator('tr[data-token="old-ci"]')).toContainText('expired');

  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('k8s-worker-pull');
  await page.getByRole('button', { name: 'Create token' }).click();
  // The list reloads with the new token; the one-time value stays on screen.
  await expect(page.locator('tr[data-token="k8s-worker-pull"]')).toBeVisible();
  await expect(page.getByTestId('issued-token')).toBeVisible();
  const token = (await page.getByTestId('issued-token').textContent())!.trim();
  const username = (await page.getByTestId('issued-username').textContent())!.trim();
  expect(token.length).toBeGreaterThan(15);

  // The secret the page built decodes back to the user and token, for the image opened.
  await page.getByRole('button', { name: 'Copy Kubernetes secret' }).click();
  const manifest = await page.evaluate(() => navigator.clipboard.readText());
  expect(manifest).toContain('type: kubernetes.io/dockerconfigjson');
  const data = manifest.match(/\.dockerconfigjson: (\S+)/)![1]!;
  const config = JSON.parse(Buffer.from(data, 'base64').toString());
  const auth = config.auths['registry.gitlab.test:5050'].auth;
  expect(Buffer.from(auth, 'base64').toString()).toBe(`${username}:${token}`);
  await expect(page.getByTestId('fmt-docker-login')).not.toContainText(token);
  await expect(page.getByTestId('fmt-ci-job')).toContainText('image: registry.gitlab.test:5050/acme/web/worker');

  // Later pages, and the list that now has it.
  await page.reload();
  await expect(page.locator('tr[data-token="k8s-worker-pull"]')).toBeVisible();
  await page.goto(url(WORKER));
  await page.goto(url('/i/demo/health'));
  await expect(page.getByTestId('health-checks')).toBeVisible();

  const answered = await Promise.all(bodies);
  const carrying = answered.filter((b) => b.text.includes(token)).map((b) => b.url);
  expect(carrying).toHaveLength(1);
  expect(carrying[0]).toContain('/api/fn/create_credential');
  const logged = fs.readFileSync(process.env.SERVER_LOG!, 'utf8');
  expect(logged).toContain('create_credential');
  expect(logged).not.toContain(token);
});

test('a Developer sees the role needed and builds the formats from a pasted token', async ({ page }) => {
  await signIn(page, 'devon', '/i/demo/credentials/projects/acme/web');
  await waitForHydration(page);
  await expect(page.getByTestId('role-needed')).toContainText('needs the Maintainer role; you are Developer');
  await expect(page.getByTestId('tokens-hidden')).toBeVisible();
  await page.getByLabel(/^Username/).fill('gitlab+deploy-token-9');
  await page.getByLabel('Token', { exact: true }).fill('pasted-secret-123');
  await page.getByRole('button', { name: 'Build formats' }).click();
  await expect(page.getByTestId('fmt-docker-auth-config')).toContainText('"auths":{"registry.gitlab.test:5050"');
});

test('the instance page reports a registry that is down', async ({ page, context }) => {
  await signIn(page, 'reese', '/i/demo/health');
  await expect(page.getByTestId('health-summary')).toHaveText('The registry looks ready to use.');
  await setDoubleControls(context, { registry: 'down' });
  try {
    await page.reload();
    await expect(page.getByTestId('health-summary')).toContainText('1 problem found');
    const check = page.locator('.health-check[data-status="failed"]');
    await expect(check).toContainText('Registry answers');
    await expect(check).toContainText('HTTP 502');
    await expect(check).toContainText('administrator');
  } finally {
    await setDoubleControls(context, { registry: 'up' });
  }
});
