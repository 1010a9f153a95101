#!/usr/bin/env node
// The seed's story in a real browser: Debian's Chromium, headless, driven by playwright-core.
// Run by tests/browser.rs, one phase per run:
//
//   node story.js CONFIG.json
//
// CONFIG (written by the Rust test):
//   phase        "wizard" | "withdrawal" | "console" | "registry" | "career" | "revocation"
//   chromium     the browser (/usr/bin/chromium), never a downloaded build
//   home         the HOME Chromium runs with: its $HOME/.pki/nssdb trusts AC SISERI and, for the
//                registry phase, holds the person's .p12
//   profile      a fresh --user-data-dir
//   screenshots  where the PNGs go (1200×900, one per page visited)
//   public       https://127.0.0.1:PORT of the public listener
//   registry     https://127.0.0.1:PORT of the registry listener (mutual TLS)
//   console      https://127.0.0.1:PORT of the operators' console (mutual TLS, operator certificate)
//   data         the siseri data directory (the SMS outbox is read from it)
//   seed         the seed's protocol (examples/protocol.json), worker (examples/worker.json)
//   kbis, identity   files to upload
//   withdrawal   {url, code, download}, shots (two file names, optional)   (withdrawal phase)
//   holder, number, people      (console phase: the operator approves the protocol)
//   holder, siret, person, habilitation, certificate, statistics   (revocation phase: the operator
//                revokes a person whose certificate is in the state `certificate`, then looks at
//                the national statistics, which show `statistics`)
//   access_code, holder, number, key_name, export, conflict   (registry phase; conflict: a
//                worker's names and NIR another employer knows under other names)
//   access_code, holder, worker, record   (career phase: the physician reads the worker's
//                career, records `record` (effective dose, e_msv), then its correction
//                (`corrected`), and looks at the alert, the history and the bilan)
//   deadline_ms  the whole run's bound
//
// The last line on stdout is a JSON object: what the phase learned (protocol number, key name,
// downloaded file, screenshots). Any failure exits non-zero with the page's text on stderr.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));

// Headless Chromium waits forever for a certificate picker, a dialog, a stuck load: every step
// has its own timeout, and the whole run has this one.
const watchdog = setTimeout(() => {
  console.error(`story.js: phase ${cfg.phase} still running after ${cfg.deadline_ms} ms, giving up`);
  process.exit(3);
}, cfg.deadline_ms || 90000);
watchdog.unref();

const STEP_MS = 15000;
const shots = [];
let current = null; // the page, for the failure report

function fail(message) {
  throw new Error(message);
}

// axe-core (npm), injected through the DevTools protocol: the pages' CSP (`script-src 'none'`)
// refuses any script tag, and must stay on for the CSP checks below.
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// RGAA 4 is built on WCAG 2.1 AA.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const audited = [];

/** Runs axe-core on the page as it is; any violation fails the run, named with its nodes. */
async function accessible(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(AXE);
  }
  // The only frames are the console's supporting documents (PDF, served with a sandbox CSP):
  // no page to audit there, and axe would wait a minute for an answer from inside.
  const result = await page.evaluate(
    (tags) =>
      window.axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations'],
        iframes: false,
      }),
    AXE_TAGS,
  );
  if (result.violations.length > 0) {
    const lines = result.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`,
    );
    fail(`axe-core: ${result.violations.length} violation(s) on ${page.url()} (${name}):\n${lines.join('\n')}`);
  }
  audited.push(name);
}

async function shot(page, name) {
  await accessible(page, name);
  const file = path.join(cfg.screenshots, name);
  // The top of the page, as a person arriving on it sees it (a filled field may have
  // scrolled it).
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, timeout: STEP_MS, animations: 'disabled', caret: 'hide' });
  shots.push(name);
}

/** Waits for the page at `pathname` (a string or a RegExp of the path and query). */
async function at(page, pathname) {
  const re = pathname instanceof RegExp ? pathname : new RegExp(`^${escape(pathname)}$`);
  await page.waitForURL((u) => re.test(u.pathname + u.search), { timeout: STEP_MS });
  await page.waitForLoadState('load', { timeout: STEP_MS });
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function expectText(page, needle) {
  const text = await page.locator('body').innerText({ timeout: STEP_MS });
  if (!text.includes(needle)) {
    fail(`« ${needle} » is not on ${page.url()}`);
  }
  return text;
}

async function expectHeading(page, title) {
  await page
    .getByRole('heading', { level: 1, name: title })
    .waitFor({ state: 'visible', timeout: STEP_MS })
    .catch(() => fail(`no <h1> « ${title} » on ${page.url()}`));
}

const field = (page, name) => page.locator(`[name="${name}"]`);

async function fill(page, pairs) {
  for (const [name, value] of pairs) {
    if (value === null || value === undefined) continue;
    await field(page, name).fill(String(value), { timeout: STEP_MS });
  }
}

async function radio(page, name, value) {
  await page.locator(`input[type="radio"][name="${name}"][value="${value}"]`).check({ timeout: STEP_MS });
}

async function click(page, role, name, options = {}) {
  await page.getByRole(role, { name, exact: true, ...options }).click({ timeout: STEP_MS });
}

async function launch() {
  const context = await chromium.launchPersistentContext(cfg.profile, {
    executablePath: cfg.chromium,
    headless: true,
    // The flags that keep Chromium off this machine's closed network and quiet at start.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-features=Translate,MediaRouter,OptimizationHints',
      '--lang=fr-FR',
    ],
    // Chromium on Linux reads client certificates and trust from $HOME/.pki/nssdb only; its
    // own words (the file picker's button) follow LANGUAGE (Debian's chromium-l10n).
    env: { ...process.env, HOME: cfg.home, LANGUAGE: 'fr', LANG: 'fr_FR.UTF-8' },
    viewport: { width: 1200, height: 900 },
    deviceScaleFactor: 1,
    locale: 'fr-FR',
    timezoneId: 'Europe/Paris',
    acceptDownloads: true,
    timeout: 30000,
  });
  context.setDefaultTimeout(STEP_MS);
  context.setDefaultNavigationTimeout(20000);
  const page = context.pages()[0] || (await context.newPage());
  current = page;
  // The pages have a strict CSP and no script of their own: any console error (a CSP
  // violation, a failed resource) is a defect.
  const problems = [];
  page.on('console', (m) => {
    // Failed loads are reported below with their address.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${m.text()} (${page.url()})`);
    }
  });
  page.on('response', (r) => {
    const u = new URL(r.url());
    // Documents answer 4xx on purpose (a used withdrawal link is 410); Chromium asks for a
    // favicon nobody declared.
    if (r.status() >= 400 && r.request().resourceType() !== 'document' && u.pathname !== '/favicon.ico') {
      problems.push(`HTTP ${r.status()} for ${r.request().resourceType()} ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    if (r.resourceType() !== 'document') problems.push(`request failed: ${r.url()} (${r.failure() && r.failure().errorText})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`unexpected dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return { context, page, problems };
}

/** Waits for a new SMS in DATA/outbox/sms (files `N.json`, `N` growing) and returns its code. */
async function smsCode(before) {
  const dir = path.join(cfg.data, 'outbox', 'sms');
  const start = Date.now();
  while (Date.now() - start < 30000) {
    const files = (fs.existsSync(dir) ? fs.readdirSync(dir) : [])
      .filter((f) => /^\d+\.json$/.test(f))
      .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
    const fresh = files.filter((f) => !before.includes(f));
    if (fresh.length > 0) {
      const sms = JSON.parse(fs.readFileSync(path.join(dir, fresh[fresh.length - 1]), 'utf8'));
      if (sms.to !== '+33712123241') fail(`the SMS went to ${sms.to}, not to the legal representative's mobile`);
      const m = /\b(\d{6})\b/.exec(sms.text);
      if (!m) fail(`no 6-digit code in the SMS « ${sms.text} »`);
      return m[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`no SMS in ${dir} after 30 s`);
}

function smsFiles() {
  const dir = path.join(cfg.data, 'outbox', 'sms');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

// ---------------------------------------------------------------------------------------------
// (a) The PASS wizard, every step with the seed's example.

async function person(page, p, extra = []) {
  await fill(page, [
    ['person.last_name', p.last_name],
    ['person.first_name', p.first_name],
    ['person.email', p.email],
    ['person.birth_date', p.birth_date],
    ['person.birth_departement', p.birth_departement],
    ...extra,
  ]);
  await radio(page, 'person.civility', p.civility);
  if (p.address) {
    const a = p.address;
    await fill(page, [
      ['address.name', a.name],
      ['address.address', a.address],
      ['address.postal_code', a.postal_code],
      ['address.town', a.town],
      ['address.country', a.country],
    ]);
  }
}

async function wizard() {
  const seed = cfg.seed.protocol;
  const { context, page, problems } = await launch();
  const base = cfg.public;

  await page.goto(`${base}/`);
  await expectHeading(page, 'SISERI');
  await shot(page, '01-accueil.png');
  await page.locator('main').getByRole('link', { name: 'Accès PASS' }).click();

  await at(page, '/pass/');
  await expectHeading(page, "Protocole d'accès sécurisé à SISERI");
  if (!(await page.getByLabel('Créer un nouveau protocole').isChecked())) {
    fail('« Créer un nouveau protocole » is not the default choice');
  }
  await shot(page, '02-pass-choix.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/preambule');
  await field(page, 'accept').check();
  await shot(page, '03-pass-preambule.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/employeur');
  const e = seed.employer;
  await fill(page, [
    ['employer.name', e.name],
    ['employer.siret', e.siret],
    ['employer.address', e.address],
    ['employer.postal_code', e.postal_code],
    ['employer.town', e.town],
    ['employer.country', e.country],
    ['employer.phone', e.phone],
  ]);
  await shot(page, '04-pass-employeur.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/representant');
  const r = seed.legal_representative;
  await fill(page, [
    ['legal_representative.last_name', r.last_name],
    ['legal_representative.first_name', r.first_name],
    ['legal_representative.birth_date', r.birth_date],
    ['legal_representative.mobile', r.mobile],
  ]);
  await shot(page, '05-pass-representant.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/verification');
  for (const [name, value] of [
    ['employer.siret', e.siret],
    ['legal_representative.mobile', r.mobile],
  ]) {
    const shown = await field(page, name).inputValue();
    if (shown.replace(/\s/g, '') !== value.replace(/\s/g, '')) {
      fail(`the check page shows ${name} = « ${shown} », typed « ${value} »`);
    }
  }
  await shot(page, '06-pass-verification.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/pieces');
  await field(page, 'kbis').setInputFiles(cfg.kbis);
  await field(page, 'identity').setInputFiles(cfg.identity);
  await shot(page, '07-pass-pieces.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/correspondants');
  await person(page, seed.correspondents[0]);
  await click(page, 'button', 'Ajouter');
  await at(page, '/pass/correspondants?ok=ajout');
  await expectText(page, seed.correspondents[0].email);
  await shot(page, '08-pass-correspondants.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/medecins');
  await person(page, seed.physicians[0]);
  await click(page, 'button', 'Ajouter');
  await at(page, '/pass/medecins?ok=ajout');
  await expectText(page, seed.physicians[0].address.name);
  await shot(page, '09-pass-medecins.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/pcr');
  const pcr = seed.pcrs[0];
  await person(page, pcr);
  if (pcr.sends_dosimetry) await field(page, 'person.sends_dosimetry').check();
  await click(page, 'button', 'Ajouter');
  await at(page, '/pass/pcr?ok=ajout');
  await expectText(page, pcr.address.name);
  await shot(page, '10-pass-pcr.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/exposition');
  const x = seed.exposure;
  await radio(page, 'exposure.exposed_in_establishment', x.exposed_in_establishment ? 'oui' : 'non');
  await radio(page, 'exposure.inb', x.inb ? 'oui' : 'non');
  await radio(page, 'exposure.domain', x.domain === 'civil' ? 'civil' : 'military');
  await page.getByLabel('Activité principale').selectOption({ label: x.activity });
  await shot(page, '11-pass-exposition.png');
  await click(page, 'button', 'Suivant');

  await at(page, '/pass/recapitulatif');
  for (const needle of [
    "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI",
    e.name,
    `${pcr.last_name} ${pcr.first_name}`,
    `Activité principale : ${x.activity}`,
  ]) {
    await expectText(page, needle);
  }
  await field(page, 'consent').check();
  await shot(page, '12-pass-recapitulatif.png');
  const before = smsFiles();
  await click(page, 'button', 'Recevoir le code de signature par SMS');

  await at(page, '/pass/signature');
  await expectHeading(page, 'Signature électronique');
  const code = await smsCode(before);
  await field(page, 'code').fill(code);
  await shot(page, '13-pass-signature.png');
  await click(page, 'button', 'Ajouter la signature électronique');

  await at(page, '/pass/signe');
  await expectText(page, 'Protocole signé');
  const number = (await page.locator('dd#numero').innerText()).trim();
  const keyName = (await page.locator('dd#nom-cle').innerText()).trim();
  if (!/^\d{4}-\d{6}$/.test(number)) fail(`protocol number « ${number} »`);
  if (!keyName) fail('no key name on the signed page');
  await shot(page, '14-pass-signe.png');

  // The signed Annexe 1, saved as the page advises.
  const [annexe] = await Promise.all([
    page.waitForEvent('download', { timeout: STEP_MS }),
    click(page, 'link', "Télécharger l'Annexe 1 (PDF)"),
  ]);
  await annexe.saveAs(cfg.annexe);
  const head = fs.readFileSync(cfg.annexe).subarray(0, 5).toString('latin1');
  if (head !== '%PDF-') fail(`the Annexe 1 download is not a PDF (starts with ${JSON.stringify(head)})`);

  await context.close();
  return { number, key_name: keyName, annexe: cfg.annexe, annexe_filename: annexe.suggestedFilename(), problems };
}

// ---------------------------------------------------------------------------------------------
// (b) The withdrawal page: the code typed, the .p12 downloaded once.

async function withdrawal() {
  const w = cfg.withdrawal;
  const { context, page, problems } = await launch();
  const first = await page.goto(w.url);
  if (first.status() !== 200) fail(`withdrawal page: HTTP ${first.status()}`);
  await expectHeading(page, 'Retrait de votre certificat SISERI');
  await expectText(page, cfg.holder);
  const [takeShot, usedShot] = cfg.shots || ['15-retrait.png', '16-retrait-deja-utilise.png'];
  await page.getByLabel('Code de retrait').fill(w.code);
  await shot(page, takeShot);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: STEP_MS }),
    click(page, 'button', 'Télécharger le certificat'),
  ]);
  const suggested = download.suggestedFilename();
  await download.saveAs(w.download);
  const failure = await download.failure();
  if (failure) fail(`download failed: ${failure}`);

  // The link is good for one download: the page now says so.
  const again = await page.goto(w.url);
  if (again.status() !== 410) fail(`withdrawal page after the download: HTTP ${again.status()}, expected 410`);
  await shot(page, usedShot);
  await context.close();
  return { suggested_filename: suggested, problems };
}

// ---------------------------------------------------------------------------------------------
// (c) The registry: the certificate picked by policy, the access code typed, a worker added.

async function registry() {
  const { context, page, problems } = await launch();
  const reg = cfg.registry;
  const out = { problems, reached: [] };

  // The TLS handshake asks for a client certificate: the managed policy picks the AC SISERI one
  // from the NSS database, or Chromium would wait for a person to choose (the step's timeout).
  const first = await page.goto(`${reg}/`).catch((e) => {
    fail(`the registry's page did not open (certificate not presented, or refused?): ${e.message}`);
  });
  if (first.status() !== 200) fail(`registry /: HTTP ${first.status()}`);
  out.reached.push('/');
  await expectHeading(page, 'Authentification SISERI');
  await expectText(page, cfg.holder);
  await page.getByLabel("Code d'accès").fill(cfg.access_code);
  await shot(page, '17-registre-connexion.png');
  await click(page, 'button', 'Entrer');

  await at(page, '/cartes');
  await expectHeading(page, 'Cartes-données admin.');
  const company = cfg.seed.protocol.employer.name;
  await expectText(page, company);
  await shot(page, '18-registre-cartes.png');
  out.reached.push('/cartes');

  // Établissement de rattachement: the protocol's number and key name, as PASS gave them.
  await page.locator('main table').getByRole('link', { name: 'Établissement de rattachement' }).click();
  await at(page, /^\/etablissements\/\d+\/rattachement$/);
  await expectHeading(page, 'Établissement de rattachement');
  await expectText(page, cfg.number);
  await expectText(page, cfg.key_name);
  await shot(page, '19-registre-rattachement.png');
  out.reached.push(new URL(page.url()).pathname);
  // The dosimetry bodies the establishment has named (none yet).
  await page.getByRole('link', { name: "Organismes de dosimétrie désignés par l'établissement" }).click();
  await at(page, /^\/etablissements\/\d+\/organismes$/);
  await expectHeading(page, 'Organismes de dosimétrie');
  await expectText(page, "Aucun organisme de dosimétrie n'est désigné.");
  out.reached.push(new URL(page.url()).pathname);
  await page.getByRole('link', { name: '← Établissement de rattachement' }).click();
  await at(page, /^\/etablissements\/\d+\/rattachement$/);
  await page.getByRole('link', { name: '← Cartes-données admin.' }).click();
  await at(page, '/cartes');

  const entreprise = page.getByLabel('Entreprise');
  const options = await entreprise.locator('option').allInnerTexts();
  const ours = options.find((o) => o.includes(company));
  if (!ours) fail(`« ${company} » is not among the companies: ${options.join(' | ')}`);
  await entreprise.selectOption({ label: ours });
  await page.getByLabel('Type de données').selectOption({ label: 'Liste des travailleurs' });
  await click(page, 'button', 'Rechercher');

  await at(page, /^\/etablissements\/\d+\/travailleurs$/);
  const list = new URL(page.url()).pathname;
  await expectText(page, 'Liste des travailleurs');
  await shot(page, '20-registre-travailleurs-vide.png');
  out.reached.push(list);

  await click(page, 'link', 'Modifier la liste');
  await at(page, new RegExp(`^${escape(list)}/modifier$`));
  const w = cfg.seed.worker;
  const opLabel = { ajout: 'Ajout', modification: 'Modification', suppression: 'Suppression' }[w.operation];
  await chooseOrFill(page, 'operation', opLabel, w.operation);
  if (w.new_card) await field(page, 'new_card').check();
  for (const name of ['last_name', 'first_name', 'nir', 'nir_key', 'job']) {
    await chooseOrFill(page, name, w[name], w[name]);
  }
  for (const name of ['radiological_hazard', 'contract_type', 'activity_character', 'domain', 'sector']) {
    if (w[name] !== null) await chooseOrFill(page, name, w[name], w[name]);
  }
  if (w.work_fraction !== null) await chooseOrFill(page, 'work_fraction', String(w.work_fraction), String(w.work_fraction));
  await shot(page, '21-registre-travailleurs-formulaire.png');
  out.reached.push(`${list}/modifier`);
  await click(page, 'button', 'Valider les modifications');

  await page.waitForLoadState('load');
  const after = new URL(page.url()).pathname;
  if (after !== list) await page.goto(`${reg}${list}`);
  const text = await expectText(page, w.last_name);
  if (!text.includes(w.first_name)) fail(`${w.first_name} not in the list`);
  if (!text.includes(w.nir)) fail(`the RNIPP ${w.nir} is not in the list`);
  await shot(page, '22-registre-travailleurs-liste.png');
  out.reached.push(`${list} (with ${w.first_name} ${w.last_name})`);

  // Exporter la liste: the browser's own download of the CSV.
  const exportLink = page.getByRole('link', { name: 'Exporter la liste' });
  if ((await exportLink.count()) > 0) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }), exportLink.click()]);
    await download.saveAs(cfg.export);
    out.export = cfg.export;
    out.export_filename = download.suggestedFilename();
  }

  // A worker another employer declared under another name: the declaration is not applied,
  // the form says why and keeps what was typed.
  if (cfg.conflict) {
    await page.goto(`${reg}${list}/modifier`);
    await at(page, new RegExp(`^${escape(list)}/modifier$`));
    const other = { ...w, ...cfg.conflict };
    await chooseOrFill(page, 'operation', 'Ajout', 'ajout');
    for (const name of ['last_name', 'first_name', 'nir', 'nir_key', 'job']) {
      await chooseOrFill(page, name, other[name], other[name]);
    }
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.request().resourceType() === 'document', {
        timeout: STEP_MS,
      }),
      click(page, 'button', 'Valider les modifications'),
    ]);
    await page.waitForLoadState('load');
    out.conflict = answer.status();
    await expectText(page, 'Ce NIR est déjà connu du registre sous une autre identité');
    const kept = await field(page, 'last_name').first().inputValue();
    if (kept !== other.last_name) fail(`the form lost the typed name: « ${kept} »`);
    await shot(page, '24-registre-conflit-identite.png');
    out.reached.push(`${list}/modifier (identity conflict)`);
  }

  await click(page, 'button', 'Se déconnecter');
  await expectHeading(page, 'Vous êtes déconnecté');
  await shot(page, '23-registre-deconnexion.png');
  // The session is closed: the registry asks for the access code again.
  await page.goto(`${reg}/cartes`);
  await at(page, '/');
  await expectHeading(page, 'Authentification SISERI');
  await context.close();
  return out;
}

/** A <select> chosen by its option's label (or value), or an <input> filled. */
async function chooseOrFill(page, name, label, value) {
  const el = field(page, name).first();
  const tag = await el.evaluate((n) => n.tagName.toLowerCase(), undefined, { timeout: STEP_MS });
  if (tag === 'select') {
    const opts = await el.locator('option').evaluateAll((os) => os.map((o) => [o.value, o.textContent.trim()]));
    const hit = opts.find(([v, t]) => t === label || v === value) ||
      opts.find(([v, t]) => t.startsWith(label) || (value && v.startsWith(value)));
    if (!hit) fail(`no option « ${label} » in <select name="${name}">: ${opts.map((o) => o[1]).join(' | ')}`);
    await el.selectOption(hit[0]);
  } else if (tag === 'input' && ['radio'].includes(await el.getAttribute('type'))) {
    await page.locator(`input[name="${name}"][value="${value}"]`).check();
  } else {
    await el.fill(value);
  }
}

// ---------------------------------------------------------------------------------------------
// (c') The occupational physician: the worker's whole career, a result that crosses a limit,
// its alert, its correction and history, the establishment's bilan.

/** The number of the most recent result in the doses table. */
async function lastResult(page) {
  const cells = await page.locator('main table tbody tr td:first-child').allInnerTexts();
  const numbers = cells.map((t) => /n° (\d+)/.exec(t)).filter(Boolean).map((m) => parseInt(m[1], 10));
  if (numbers.length === 0) fail('no result in the doses table');
  return Math.max(...numbers);
}

async function recordResult(page, values) {
  // The form's own select (the filter above has one of the same name).
  await page.locator('form[method="post"] select[name="kind"]').selectOption('effective');
  await fill(page, Object.entries(values));
  await click(page, 'button', 'Enregistrer le résultat');
  await at(page, /^\/etablissements\/\d+\/travailleurs\/\d+\/doses\?fait/);
  await expectText(page, 'Résultat enregistré.');
}

async function career() {
  const { context, page, problems } = await launch();
  const reg = cfg.registry;
  const out = { problems, reached: [] };
  const first = await page.goto(`${reg}/`).catch((e) => {
    fail(`the registry's page did not open (certificate not presented, or refused?): ${e.message}`);
  });
  if (first.status() !== 200) fail(`registry /: HTTP ${first.status()}`);
  await expectHeading(page, 'Authentification SISERI');
  await expectText(page, cfg.holder);
  await page.getByLabel("Code d'accès").fill(cfg.access_code);
  await click(page, 'button', 'Entrer');
  await at(page, '/cartes');

  // The physician's way in: the establishment's « Doses », the worker, their results.
  await page.locator('main table').getByRole('link', { name: 'Doses', exact: true }).first().click();
  await at(page, /^\/etablissements\/\d+\/travailleurs\?vue=doses$/);
  const est = /^\/etablissements\/(\d+)\//.exec(new URL(page.url()).pathname)[1];
  await page
    .locator('main table tbody tr', { hasText: cfg.worker })
    .getByRole('link', { name: 'Doses', exact: true })
    .click();
  await at(page, /^\/etablissements\/\d+\/travailleurs\/\d+\/doses$/);
  const doses = new URL(page.url()).pathname;
  await expectHeading(page, new RegExp(`^Doses — ${escape(cfg.worker)}`));
  // The career: the other employer's results too.
  await expectText(page, 'Autre employeur');
  out.reached.push(doses);

  // February's result: with January's, over 20 mSv in 12 months.
  const r = cfg.record;
  await recordResult(page, { period_start: r.period_start, period_end: r.period_end, e_msv: r.e_msv });
  const recorded = await lastResult(page);
  await shot(page, '25-registre-carriere-medecin.png');

  await page.goto(`${reg}/etablissements/${est}/rattachement`);
  await page.getByRole('link', { name: /^Alertes de dépassement de limite/ }).click();
  await at(page, `/etablissements/${est}/alertes`);
  await expectHeading(page, 'Alertes de dépassement de limite');
  const alerts = page.locator('main table tbody tr', { hasText: cfg.worker });
  if ((await alerts.count()) !== 1) fail(`${await alerts.count()} alert row(s) for ${cfg.worker}, expected one`);
  await expectText(page, '22,200');
  await shot(page, '26-registre-alertes.png');
  out.reached.push(new URL(page.url()).pathname);

  // The result was mistyped: its correction names it, and its history shows both.
  await page.goto(`${reg}${doses}`);
  await recordResult(page, {
    period_start: r.period_start,
    period_end: r.period_end,
    e_msv: r.corrected,
    replaces: String(recorded),
  });
  const correction = await lastResult(page);
  await page.getByRole('link', { name: `historique du résultat n° ${correction}` }).click();
  await at(page, `${doses}/${correction}/historique`);
  await expectHeading(page, new RegExp(`^Historique du résultat n° ${correction}`));
  await expectText(page, `Remplacé par le n° ${correction}`);
  await shot(page, '27-registre-historique-correction.png');
  out.reached.push(new URL(page.url()).pathname);

  // BILANS: the establishment's distribution, a chart drawn on the server beside its table.
  await page.locator('nav').getByRole('link', { name: 'Bilans' }).click();
  await at(page, '/bilans');
  await page.locator('main').getByRole('link', { name: /protocole n°/ }).first().click();
  await at(page, `/etablissements/${est}/bilans`);
  await expectHeading(page, 'Bilan dosimétrique');
  // The 12 months up to the recorded result, so that the picture does not depend on the day.
  await page.getByLabel('Dernier jour des 12 mois').fill(r.period_end);
  await click(page, 'button', 'Afficher');
  await at(page, new RegExp(`^/etablissements/${est}/bilans\\?au=`));
  await expectText(page, '1 – 6 mSv');
  if ((await page.locator('main svg[role="img"]').count()) < 1) fail('the bilan has no chart');
  await shot(page, '28-registre-bilans.png');
  out.reached.push(new URL(page.url()).pathname);

  await click(page, 'button', 'Se déconnecter');
  await expectHeading(page, 'Vous êtes déconnecté');
  await context.close();
  return out;
}

// ---------------------------------------------------------------------------------------------
// (b') The operators' console: the operator's certificate picked by policy, the queue, the
// protocol's review with its K-bis shown in the page, the approval and its progress.

/** Opens the console's home page; the TLS handshake presents the operator's certificate. */
async function openConsole(page) {
  const first = await page.goto(`${cfg.console}/`).catch((e) => {
    fail(`the console did not open (operator certificate not presented, or refused?): ${e.message}`);
  });
  if (first.status() !== 200) fail(`console /: HTTP ${first.status()}`);
  await expectHeading(page, 'Protocoles signés en attente de décision');
  // The menu names the operator and their role.
  await expectText(page, `${cfg.holder} (administrateur)`);
}

async function consolePhase() {
  const { context, page, problems } = await launch();
  const out = { problems };
  // The supporting documents the review page loads in its frame and image.
  const documents = {};
  page.on('response', (r) => {
    const m = /\/pieces\/(kbis|identity)$/.exec(new URL(r.url()).pathname);
    if (!m) return;
    // The first answer (Chromium's PDF viewer may ask again, with a stream of its own).
    if (!documents[m[1]]) documents[m[1]] = { status: r.status() };
  });

  await openConsole(page);
  await expectText(page, cfg.number);
  await shot(page, 'console-03-file.png');
  await page.locator('main table').getByRole('link', { name: cfg.number }).click();

  await at(page, `/protocoles/${cfg.number}`);
  await expectHeading(page, new RegExp(`^Protocole n° ${escape(cfg.number)}`));
  await expectText(page, cfg.seed.protocol.employer.name);
  // The K-bis is shown in the page (a frame the console serves, inert), the identity scan as
  // an image; the operator looks at both before deciding.
  const frame = page.locator('iframe[src$="/pieces/kbis"]');
  await frame.waitFor({ state: 'attached', timeout: STEP_MS }).catch(() => fail('no K-bis frame on the review page'));
  await frame.scrollIntoViewIfNeeded({ timeout: STEP_MS });
  const start = Date.now();
  while (!documents.kbis && Date.now() - start < STEP_MS) await new Promise((r) => setTimeout(r, 100));
  if (!documents.kbis) fail('the K-bis was not loaded by the review page');
  const image = page.locator('main img').first();
  await image.waitFor({ state: 'visible', timeout: STEP_MS });
  const width = await image.evaluate((i) => i.complete && i.naturalWidth);
  if (!width) fail('the identity scan is not displayed');
  out.kbis = documents.kbis;
  out.identity = documents.identity;
  await shot(page, 'console-04-examen.png');

  // The form is submitted as its button would submit it (`requestSubmit(button)`, through the
  // DevTools protocol like axe): Chromium's PDF viewer in the frame above may take a pointer's
  // click or the keyboard's focus (a press of Enter was lost once in CI), never this.
  await page
    .getByRole('button', { name: 'Valider le protocole', exact: true })
    .evaluate((b) => b.form.requestSubmit(b), undefined, { timeout: STEP_MS });
  await at(page, `/protocoles/${cfg.number}/validation`);
  // A large protocol shows its progress; this one (three people) may be done already. The
  // page refreshes itself: to audit it, the operator stops the refresh, then refreshes by hand.
  let heading = (await page.locator('h1').innerText()).trim();
  if (heading.endsWith('en cours')) {
    await page.getByRole('link', { name: "Arrêter l'actualisation automatique" }).click();
    await at(page, `/protocoles/${cfg.number}/validation?auto=non`);
    heading = (await page.locator('h1').innerText()).trim();
    if (heading.endsWith('en cours')) await shot(page, 'console-05-validation-en-cours.png');
    const until = Date.now() + 30000;
    while (heading.endsWith('en cours') && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 300));
      await click(page, 'link', 'Actualiser');
      await page.waitForLoadState('load');
      heading = (await page.locator('h1').innerText()).trim();
    }
  }
  await expectHeading(page, 'Protocole validé');
  await expectText(page, `${cfg.people} certificat(s) émis`);
  await shot(page, 'console-06-valide.png');

  // The queue is empty now.
  await page.getByRole('link', { name: 'Retour aux protocoles à décider' }).click();
  await at(page, '/');
  await expectText(page, "Aucun protocole n'attend de décision.");
  await context.close();
  return out;
}

// ---------------------------------------------------------------------------------------------
// (d) Later: the operator finds a person by the establishment's SIRET and revokes them.

async function revocation() {
  const { context, page, problems } = await launch();
  await openConsole(page);
  await page.locator('nav').getByRole('link', { name: 'Personnes' }).click();
  await at(page, '/personnes');
  await expectHeading(page, 'Rechercher une personne');
  await page.getByLabel(/SIRET/).fill(cfg.siret);
  await click(page, 'button', 'Rechercher');
  await at(page, /^\/personnes\?q=/);
  await expectText(page, cfg.person);
  await shot(page, 'console-07-personnes.png');
  await page.locator('main table').getByRole('link', { name: String(cfg.habilitation) }).click();

  await at(page, `/personnes/${cfg.habilitation}`);
  await expectHeading(page, new RegExp(`${escape(cfg.person)}`));
  await expectText(page, cfg.certificate || 'émis, en attente de retrait');
  await page.getByLabel('Motif de la révocation').selectOption('cessationOfOperation');
  await shot(page, 'console-08-personne.png');
  await click(page, 'button', 'Révoquer les certificats');

  await expectHeading(page, 'Action effectuée');
  await expectText(page, 'révoqué');
  await shot(page, 'console-09-revoque.png');
  await page.getByRole('link', { name: 'Retour à la personne' }).click();
  await at(page, `/personnes/${cfg.habilitation}`);
  await expectText(page, 'révoqué');

  // The national statistics: charts drawn on the server, tables beside them.
  await page.locator('nav').getByRole('link', { name: 'Statistiques' }).click();
  await at(page, '/statistiques');
  await expectHeading(page, /^Statistiques nationales \d{4}$/);
  await expectText(page, cfg.statistics);
  if ((await page.locator('main svg[role="img"]').count()) < 4) fail('the statistics page has fewer than four charts');
  await shot(page, 'console-10-statistiques.png');

  // The transmissions of results (issue 16): the body's file, then its page and récépissé.
  await page.locator('nav').getByRole('link', { name: 'Transmissions' }).click();
  await at(page, '/transmissions');
  await expectHeading(page, 'Transmissions de résultats');
  await expectText(page, cfg.transmission);
  await shot(page, 'console-11-transmissions.png');
  await page.locator('main table').getByRole('link', { name: cfg.transmission }).click();
  await at(page, `/transmissions/${cfg.transmission}`);
  await expectHeading(page, `Transmission ${cfg.transmission}`);
  await expectText(page, 'Télécharger le récépissé signé');
  await shot(page, 'console-12-transmission.png');
  await context.close();
  return { problems };
}

// ---------------------------------------------------------------------------------------------

const phases = { wizard, withdrawal, console: consolePhase, registry, career, revocation };

(async () => {
  const run = phases[cfg.phase];
  if (!run) fail(`unknown phase ${cfg.phase}`);
  fs.mkdirSync(cfg.screenshots, { recursive: true });
  const result = await run();
  result.screenshots = shots;
  // The pages axe-core found no violation on (a violation ends the run above).
  result.accessible = audited;
  console.log(JSON.stringify(result));
  process.exit(0);
})().catch(async (err) => {
  console.error(`story.js (${cfg.phase}): ${err && err.stack ? err.stack : err}`);
  if (current) {
    try {
      console.error(`--- at ${current.url()} ---`);
      console.error((await current.locator('body').innerText({ timeout: 2000 })).slice(0, 4000));
      await current.screenshot({ path: path.join(cfg.screenshots, `echec-${cfg.phase}.png`), timeout: 5000 });
    } catch (_) {
      // the page may be gone
    }
  }
  process.exit(1);
});
