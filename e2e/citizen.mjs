// Browser test of the citizen portal in real headless Chromium (Debian's), driven by
// playwright-core: a citizen signs in, finds the birth registration by typing without
// diacritics, opens its declaration, checks it with a mistake (told next to the field, nothing
// typed lost), corrects it, uploads a PDF into the document slot, saves a draft, resumes it from
// their page, submits, opens the tracking page, the receipt PDF and the uploaded PDF; then the
// desk officer (through the API, as another system would) receives the dossier and the tracking
// page shows the new status. Screenshots of each screen go to $SHOTS.
//
// Run by crates/motcua/tests/browser.rs with BASE, CHROMIUM, SHOTS and FORM_1001193 set.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import { tinyPdf } from "./pdf.mjs";

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS || "screenshots";
const PASSWORD = "motcua@2026";
const COMMUNE = "H40.24781";
const SLOT = "giay_chung_sinh";
// The example declaration, with the father's optional address filled in too (an address left
// empty, with only its preselected province, counts as not given).
const EXAMPLE = {
  ...JSON.parse(process.env.FORM_1001193),
  cha_noi_cu_tru: { province: "68", commune: "24781", street: "12 Trần Phú" },
};
mkdirSync(SHOTS, { recursive: true });

const scan = `${SHOTS}/citizen-giay-chung-sinh.pdf`;
writeFileSync(scan, tinyPdf());

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({
    path: `${SHOTS}/citizen-${String(step).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
}

// Types the example declaration into the page, as a person would (selects chosen, boxes ticked;
// a ticked box reveals the fields it conditions).
async function fillDeclaration(page, values) {
  async function set(name, v) {
    const el = page.locator(`[name="${name}"]`).first();
    const tag = await el.evaluate((e) => e.tagName);
    if (tag === "SELECT") await el.selectOption(String(v));
    else await el.fill(String(v));
  }
  // The boxes first: the example's keys come sorted, and a box may reveal fields before it.
  for (const [k, v] of Object.entries(values)) {
    if (v === true) await page.locator(`[name="${k}"]`).check();
  }
  for (const [k, v] of Object.entries(values)) {
    if (v === true) continue;
    if (v && typeof v === "object") {
      for (const [part, x] of Object.entries(v)) await set(`${k}[${part}]`, x);
    } else await set(k, v);
  }
}

async function status(page) {
  return (await page.locator("#trang-thai").textContent()).trim();
}

try {
  // Sign in, then find the procedure by typing without diacritics.
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "vi-VN" });
  const page = await ctx.newPage();
  await page.goto(`${BASE}/dang-nhap?next=/thu-tuc`);
  await page.getByLabel("Tên đăng nhập").fill("congdan");
  await page.getByLabel("Mật khẩu").fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.waitForURL(/\/thu-tuc/);
  await page.locator('input[name="q"]').fill("dang ky khai sinh");
  await page.getByRole("button", { name: "Tìm", exact: true }).click();
  await page.waitForURL(/q=dang/);
  await shot(page, "search");
  await page.locator('a[href^="/thu-tuc/1.001193"]').first().click();
  await page.getByRole("link", { name: "Điền tờ khai trực tuyến" }).click();
  await page.waitForURL(/\/thu-tuc\/1\.001193\/to-khai/);
  // Prefilled from her account.
  assert.equal(await page.locator('[name="nguoi_yc_ho_ten"]').inputValue(), "Nguyễn Thị Lan");
  await shot(page, "form");

  // A mistake the browser cannot see: a personal ID of 12 digits with no such province (999).
  // The server says so next to the field; nothing typed is lost.
  await fillDeclaration(page, { ...EXAMPLE, me_so_dinh_danh: "999190001234" });
  await page.getByRole("button", { name: "Kiểm tra tờ khai" }).click();
  await page.locator("#error-summary").waitFor();
  assert.ok(await page.locator("#f-me_so_dinh_danh[aria-invalid=true]").count(), "the field is marked");
  assert.equal(await page.locator('[name="ho_ten"]').inputValue(), EXAMPLE.ho_ten);
  await shot(page, "error");

  // Corrected; the birth certificate's scan in its slot; saved as a draft.
  await page.locator('[name="me_so_dinh_danh"]').fill(EXAMPLE.me_so_dinh_danh);
  await page.locator(`#f-_uploads-${SLOT}-input`).setInputFiles(scan);
  await page.getByRole("button", { name: "Lưu nháp" }).click();
  await page.locator("#draft-saved").waitFor();
  const attached = page.locator(`#f-_uploads-${SLOT}-file a`);
  assert.match(await attached.textContent(), /citizen-giay-chung-sinh\.pdf/);
  const preview = await attached.getAttribute("href");
  await shot(page, "draft-saved");

  // Later: her page lists the draft; "Tiếp tục" brings everything back.
  await page.goto(`${BASE}/ca-nhan`);
  await page.locator("#drafts").waitFor();
  await shot(page, "drafts");
  await page.getByRole("link", { name: "Tiếp tục" }).first().click();
  await page.waitForURL(/nhap=/);
  assert.equal(await page.locator('[name="me_so_dinh_danh"]').inputValue(), EXAMPLE.me_so_dinh_danh);
  assert.equal(await page.locator(`#f-_uploads-${SLOT}-file a`).getAttribute("href"), preview);
  await shot(page, "resumed");

  // Checked, then submitted online at her commune.
  await page.getByRole("button", { name: "Kiểm tra tờ khai" }).click();
  await page.waitForLoadState();
  if (!(await page.locator("#form-ok").count())) {
    await shot(page, "not-valid");
    const errs = await page.locator(".err, .field-err").allTextContents();
    const invalid = await page.evaluate(() =>
      [...document.querySelectorAll("form.eform :invalid")].map((e) => e.name),
    );
    throw new Error(`not valid: ${page.url()} ${errs.join(" | ")} browser-invalid: ${invalid}`);
  }
  await page.locator("#agency").selectOption(COMMUNE);
  await shot(page, "valid");
  await page.getByRole("button", { name: "Nộp hồ sơ trực tuyến" }).click();
  await page.waitForURL(/\/ca-nhan\/ho-so\/[^/?]+\?moi=1/);
  const id = new URL(page.url()).pathname.split("/").pop();
  const before = await status(page);
  await shot(page, "submitted");

  // The uploaded PDF opens, and it is the dossier's document.
  const file = await ctx.request.get(BASE + preview);
  assert.equal(file.status(), 200);
  assert.equal(file.headers()["content-type"], "application/pdf");
  assert.equal((await file.body()).subarray(0, 4).toString(), "%PDF");
  const files = await (await ctx.request.get(`${BASE}/api/v1/dossiers/${id}/files`)).json();
  assert.ok(files.items.some((f) => f.kind === "component" && preview.includes(f.key.slice(7))), "linked");
  // The submitted draft is gone from her page.
  await page.goto(`${BASE}/ca-nhan`);
  assert.equal(await page.locator("#drafts").count(), 0, "the draft was deleted");

  // The desk officer receives it through the API.
  const api = await browser.newContext();
  const tok = await api.request.post(`${BASE}/api/v1/auth/token`, {
    data: { username: "motcua.xa", password: PASSWORD },
  });
  assert.equal(tok.status(), 200);
  const token = (await tok.json()).token;
  const received = await api.request.post(`${BASE}/api/v1/dossiers/${id}/actions/receive`, {
    headers: { authorization: `Bearer ${token}` },
    data: {},
  });
  assert.equal(received.status(), 200, await received.text());
  const code = (await received.json()).dossier.code;

  // Her tracking page shows the new status, the code, and the receipt as a PDF.
  await page.goto(`${BASE}/ca-nhan/ho-so/${id}`);
  const after = await status(page);
  assert.notEqual(after, before, "the status changed");
  assert.ok((await page.textContent("main")).includes(code), "the dossier code is shown");
  await shot(page, "received");
  const receipt = await ctx.request.get(`${BASE}/api/v1/dossiers/${id}/documents/receipt`);
  assert.equal(receipt.status(), 200);
  assert.equal(receipt.headers()["content-type"], "application/pdf");
  assert.equal((await receipt.body()).subarray(0, 4).toString(), "%PDF");

  // On a 360-px phone: no page is wider than the screen.
  const state = await ctx.storageState();
  const phone = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: "vi-VN", storageState: state });
  const small = await phone.newPage();
  for (const path of ["/", "/thu-tuc?q=khai+sinh", "/thu-tuc/1.001193", "/thu-tuc/1.001193/to-khai", "/ca-nhan", `/ca-nhan/ho-so/${id}`, "/tra-cuu"]) {
    const res = await small.goto(BASE + path);
    assert.equal(res.status(), 200, path);
    const width = await small.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 360, `${path} is ${width} px wide on a 360-px screen`);
  }
  await shot(small, "phone-360-tracking");
  // Every control of the declaration has a name a screen reader reads (a label or aria).
  await small.goto(`${BASE}/thu-tuc/1.001193/to-khai`);
  const unnamed = await small.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => !["hidden", "submit", "button"].includes(el.type))
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
      .map((el) => el.name || el.id),
  );
  assert.deepEqual(unnamed, [], "controls without a label");

  // Keyboard only: Tab to the search box, type, Enter; Tab to the procedure, Enter.
  await small.goto(`${BASE}/thu-tuc`);
  const tabTo = async (test, max = 40) => {
    for (let i = 0; i < max; i++) {
      await small.keyboard.press("Tab");
      if (await small.evaluate(test)) return;
    }
    assert.fail(`not reached with Tab: ${test}`);
  };
  await tabTo(() => document.activeElement && document.activeElement.name === "q");
  await small.keyboard.type("dang ky khai sinh");
  await small.keyboard.press("Enter");
  await small.waitForURL(/q=dang/);
  await tabTo(() => (document.activeElement.getAttribute("href") || "").startsWith("/thu-tuc/1.001193"), 80);
  await small.keyboard.press("Enter");
  await small.waitForURL(/\/thu-tuc\/1\.001193/);
  await shot(small, "keyboard-procedure");

  // Without JavaScript: the search and the procedure page still work (plain forms and links).
  const nojs = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: "vi-VN", javaScriptEnabled: false });
  const bare = await nojs.newPage();
  await bare.goto(`${BASE}/thu-tuc`);
  await bare.locator('input[name="q"]').fill("cap ban sao");
  await bare.locator('input[name="q"]').press("Enter");
  await bare.waitForURL(/q=cap/);
  assert.ok(await bare.locator('a[href^="/thu-tuc/"]').count(), "results without JavaScript");
  await phone.close();
  await nojs.close();

  console.log(`citizen portal: ok (${code}: ${before} -> ${after})`);
} finally {
  await browser.close();
}
