// The development enrollment page (/demo/enroll): enrolls through the registry's enrollCitizen,
// create-only and audited, CSRF-bound to its cookie, quality problems as guidance, and absent when
// the demo is disabled; the demo agency's pages in the citizen's language; the favicon on every
// page and at /favicon.ico.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import sharp from 'sharp';
import { createBrowser } from '../../helpers/browser.ts';
import { describeWithData, face } from '../../helpers/data.ts';
import { startTestGateway, type TestGateway } from '../../helpers/gateway.ts';
import { findCitizenByNationalId } from '../../../src/registry/citizens.ts';
import { messagesOf } from '../../../views/index.ts';

function form(fields: Record<string, string>, photo?: Buffer): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(fields)) data.append(k, v);
  if (photo) data.append('photo', new Blob([new Uint8Array(photo)], { type: 'image/png' }), 'me.png');
  return data;
}

const record = { nationalId: 'ENROLL01', givenName: 'Lin-Manuel', familyName: 'Miranda', birthdate: '1980-01-16' };
const csrfOf = (body: string) => /name="csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

describeWithData('enrollment page (demo enabled)', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startTestGateway({ demo: { enabled: true } }); });
  afterAll(() => gw?.close());

  async function openPage(lang = '') {
    const browser = createBrowser();
    const page = await browser.request(`${gw.issuer}/demo/enroll${lang}`, { headers: { accept: 'text/html' } });
    return { browser, page, csrf: csrfOf(page.body) };
  }

  it('shows the form with a CSRF token bound to a cookie, in the chosen language', async () => {
    const { browser, page, csrf } = await openPage('?lang=fr');
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="enroll-form"');
    expect(page.body).toContain('<html lang="fr">');
    expect(csrf).not.toBe('');
    expect(browser.jar.get('demo_enroll')).toBeTruthy();
  });

  it('enrolls the citizen, then links to the demo agency', async () => {
    const { browser, csrf } = await openPage();
    const res = await browser.request(`${gw.issuer}/demo/enroll`, {
      method: 'POST', body: form({ csrf, ...record }, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/<a id="sign-in-link"[^>]*href="\/demo"/);
    const citizen = await findCitizenByNationalId(gw.database.db, 'ENROLL01');
    expect(citizen).toMatchObject({ givenName: 'Lin-Manuel', familyName: 'Miranda', birthdate: '1980-01-16', status: 'active' });
    const template = await gw.database.db('face_templates').where({ citizen_id: citizen!.id }).first();
    expect(template).toBeDefined();
  });

  it('returns quality problems as guidance and writes nothing', async () => {
    const { browser, csrf } = await openPage();
    const blank = await sharp({ create: { width: 480, height: 640, channels: 3, background: '#808080' } }).png().toBuffer();
    const res = await browser.request(`${gw.issuer}/demo/enroll`, { method: 'POST', body: form({ csrf, ...record, nationalId: 'ENROLL02' }, blank) });
    expect(res.status).toBe(422);
    expect(res.body).toContain('<li data-code="no_face">');
    expect(res.body).toContain('value="ENROLL02"');
    expect(await findCitizenByNationalId(gw.database.db, 'ENROLL02')).toBeUndefined();
  });

  it('refuses a bad record with its code before any face work', async () => {
    const { browser, csrf } = await openPage();
    const res = await browser.request(`${gw.issuer}/demo/enroll`, {
      method: 'POST', body: form({ csrf, ...record, nationalId: 'ENROLL03', birthdate: '2999-01-01' }, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')),
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('<li data-code="invalid_citizen">');
    expect(await findCitizenByNationalId(gw.database.db, 'ENROLL03')).toBeUndefined();
  });

  it('refuses an enrollment for a national ID already in the registry (citizen_exists), in the citizen\'s language, and changes nothing', async () => {
    const owner = await openPage();
    const enrolled = await owner.browser.request(`${gw.issuer}/demo/enroll`, {
      method: 'POST', body: form({ csrf: owner.csrf, ...record, nationalId: 'ENROLL05' }, face('lin_manuel_miranda', 'lin_manuel_miranda_1.png')),
    });
    expect(enrolled.status).toBe(200);
    const citizen = (await findCitizenByNationalId(gw.database.db, 'ENROLL05'))!;
    const template = await gw.database.db('face_templates').where({ citizen_id: citizen.id }).first();

    const attacker = await openPage('?lang=fr');
    const res = await attacker.browser.request(`${gw.issuer}/demo/enroll`, {
      method: 'POST',
      body: form({ csrf: attacker.csrf, nationalId: 'enroll05', givenName: 'Mallory', familyName: 'Attacker', birthdate: '1990-01-01' }, face('kit_harington', 'kit_harington_1.jpg')),
    });
    expect(res.status).toBe(409);
    expect(res.body).toContain('<html lang="fr">');
    expect(res.body).toContain(`<li data-code="citizen_exists">${messagesOf('fr').codes.citizen_exists}</li>`);
    expect(res.body).not.toContain('id="sign-in-link"');
    expect(await findCitizenByNationalId(gw.database.db, 'ENROLL05')).toEqual(citizen);
    expect(await gw.database.db('face_templates').where({ citizen_id: citizen.id })).toEqual([template]);
    expect(await gw.database.db('citizens').where({ national_id: 'ENROLL05' })).toHaveLength(1);
  });

  it('audits an enrollment as registry.citizen_created by "demo", and a refused one, without personal data', async () => {
    const from = Number((await gw.database.db('audit_events').max({ id: 'id' }))[0].id ?? 0);
    const photo = face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
    for (const givenName of ['Audited', 'Again']) {
      const { browser, csrf } = await openPage();
      await browser.request(`${gw.issuer}/demo/enroll`, { method: 'POST', headers: { 'user-agent': 'enroll-test' }, body: form({ csrf, ...record, nationalId: 'ENROLL06', givenName }, photo) });
    }
    const citizen = (await findCitizenByNationalId(gw.database.db, 'ENROLL06'))!;
    const rows = await gw.database.db('audit_events').where('id', '>', from).orderBy('id');
    expect(rows.map((r) => ({ type: r.type, outcome: r.outcome, code: r.code, citizenId: r.citizen_id, userAgent: r.user_agent, ip: r.ip, details: JSON.parse(r.details) }))).toEqual([
      { type: 'registry.citizen_created', outcome: 'success', code: null, citizenId: citizen.id, userAgent: 'enroll-test', ip: expect.stringContaining('127.0.0.1'), details: { actor: 'demo', source: 'demo enroll', modelId: expect.any(String) } },
      { type: 'registry.enrollment_refused', outcome: 'failure', code: 'citizen_exists', citizenId: citizen.id, userAgent: 'enroll-test', ip: expect.stringContaining('127.0.0.1'), details: { actor: 'demo', source: 'demo enroll' } },
    ]);
    const text = JSON.stringify(rows);
    for (const value of ['ENROLL06', 'Audited', 'Miranda', '1980-01-16']) expect(text).not.toContain(value);
  });

  it('refuses a post without the page cookie or with a wrong token (csrf_invalid)', async () => {
    const { browser } = await openPage();
    const photo = face('lin_manuel_miranda', 'lin_manuel_miranda_1.png');
    const wrong = await browser.request(`${gw.issuer}/demo/enroll`, {
      method: 'POST', headers: { accept: 'application/json' }, body: form({ csrf: 'forged', ...record, nationalId: 'ENROLL04' }, photo),
    });
    expect(wrong.status).toBe(403);
    expect(wrong.json).toMatchObject({ error: { code: 'csrf_invalid' } });
    const { csrf } = await openPage();
    const cookieless = await createBrowser().request(`${gw.issuer}/demo/enroll`, {
      method: 'POST', headers: { accept: 'application/json' }, body: form({ csrf, ...record, nationalId: 'ENROLL04' }, photo),
    });
    expect(cookieless.status).toBe(403);
    expect(await findCitizenByNationalId(gw.database.db, 'ENROLL04')).toBeUndefined();
  });

  it('links the demo agency home to it', async () => {
    const home = await createBrowser().request(`${gw.issuer}/demo`, { headers: { accept: 'text/html' } });
    expect(home.body).toMatch(/<a id="enroll-link"[^>]*href="\/demo\/enroll"/);
  });

  it('shows the photo back with "Use this photo" / "Take another" in the form, hidden until the script has a photo', async () => {
    for (const [lang, m] of [['en', messagesOf('en')], ['fr', messagesOf('fr')]] as const) {
      const { page } = await openPage(`?lang=${lang}`);
      expect(page.body).toMatch(/<form id="enroll-form"[\s\S]*<div id="enroll-review" class="review"[^>]*hidden>[\s\S]*<\/form>/);
      expect(page.body).toContain(`>${m.demo.reviewTitle}</h2>`);
      expect(page.body).toMatch(new RegExp(`<button type="button" id="enroll-use"[^>]*>${m.demo.usePhoto}</button>`));
      expect(page.body).toMatch(new RegExp(`<button type="button" id="enroll-retake"[^>]*>${m.demo.retake}</button>`));
    }
  });

  it('renders the demo agency in French for Accept-Language: fr, with the language switch', async () => {
    const t = messagesOf('fr').demoAgency;
    const home = await createBrowser().request(`${gw.issuer}/demo`, { headers: { accept: 'text/html', 'accept-language': 'fr-FR,fr;q=0.9,en;q=0.5' } });
    expect(home.status).toBe(200);
    expect(home.body).toContain('<html lang="fr">');
    expect(home.body).toContain(t.lead);
    expect(home.body).toContain(`href="/demo/login?level=substantial">${t.levels.substantial}</a>`);
    expect(home.body).toContain(`href="/demo/login?level=high">${t.levels.high}</a>`);
    expect(home.body).toContain(`>${t.enrollLink}</a>`);
    expect(home.body).toMatch(/<a href="\/demo\?lang=en" hreflang="en" lang="en">English<\/a>/);
    expect(home.body).toMatch(/<a href="\/demo\?lang=fr" hreflang="fr" lang="fr" aria-current="true">Français<\/a>/);
    const english = await createBrowser().request(`${gw.issuer}/demo`, { headers: { accept: 'text/html', 'accept-language': 'en-GB' } });
    expect(english.body).toContain('<html lang="en">');
    expect(english.body).toContain('>Sign in (substantial)</a>');
  });

  it('keeps the language chosen with the switch for the demo agency and the enrollment page', async () => {
    const browser = createBrowser();
    const switched = await browser.request(`${gw.issuer}/demo?lang=fr`, { headers: { accept: 'text/html', 'accept-language': 'en' } });
    expect(switched.body).toContain('<html lang="fr">');
    expect(browser.jar.get('facegate_lang')).toBe('fr');
    const enroll = await browser.request(`${gw.issuer}/demo/enroll`, { headers: { accept: 'text/html', 'accept-language': 'en' } });
    expect(enroll.body).toContain('<html lang="fr">');
    expect(enroll.body).toContain(messagesOf('fr').demo.usePhoto);
    // The callback of a sign-in that was not started here: the agency's error page, in French.
    const unknown = await browser.request(`${gw.issuer}/demo/callback?code=x&state=y`, { headers: { accept: 'text/html', 'accept-language': 'en' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain('<html lang="fr">');
    expect(unknown.body).toContain(`<h1>${messagesOf('fr').demoAgency.failed}</h1>`);
    expect(unknown.body).toContain(messagesOf('fr').demoAgency.errors.unknown_state);
  });

  it('links the favicon from the demo agency and the enrollment page', async () => {
    for (const path of ['/demo', '/demo/enroll', '/demo/callback']) {
      const res = await createBrowser().request(`${gw.issuer}${path}`, { headers: { accept: 'text/html' } });
      const href = /<link rel="icon" href="(\/static\/favicon\.[0-9a-f]{12}\.svg)" type="image\/svg\+xml">/.exec(res.body)?.[1];
      expect(href).toBeDefined();
      const icon = await fetch(`${gw.issuer}${href}`);
      expect(icon.status).toBe(200);
      expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    }
  });
});

describe('gateway without the demo (as in production)', () => {
  let gw: TestGateway;
  beforeAll(async () => { gw = await startTestGateway(); });
  afterAll(() => gw?.close());

  it('has no enrollment page', async () => {
    const browser = createBrowser();
    expect((await browser.request(`${gw.issuer}/demo/enroll`)).status).toBe(404);
    const post = await browser.request(`${gw.issuer}/demo/enroll`, { method: 'POST', body: form({ csrf: 'x', ...record }) });
    expect(post.status).toBe(404);
    expect(await findCitizenByNationalId(gw.database.db, record.nationalId)).toBeUndefined();
  });

  it('answers /favicon.ico with the SVG favicon, and links it from the gateway\'s own pages', async () => {
    const ico = await fetch(`${gw.issuer}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/svg+xml');
    expect(await ico.text()).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    const page = await createBrowser().request(`${gw.issuer}/interaction/unknown-uid`, { headers: { accept: 'text/html' } });
    expect(page.body).toMatch(/<link rel="icon" href="\/static\/favicon\.[0-9a-f]{12}\.svg" type="image\/svg\+xml">/);
  });

  it('renders the error page in the language of Accept-Language', async () => {
    const res = await createBrowser().request(`${gw.issuer}/interaction/unknown-uid`, { headers: { accept: 'text/html', 'accept-language': 'fr-CA,fr;q=0.9' } });
    expect(res.status).toBe(404);
    expect(res.body).toContain('<html lang="fr">');
    expect(res.body).toContain('Cette connexion a expiré ou est introuvable.');
    expect(res.body).toContain('<code>interaction_not_found</code>');
  });
});
