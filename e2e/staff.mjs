// Browser test of the staff workspace in real headless Chromium (Debian's), driven by
// playwright-core: a desk officer signs in, finds a new online dossier in the inbox, opens it,
// is refused an empty refusal, receives it, and sees the code; a leader reads the dossier's
// audit trail; a citizen is kept out of staff pages. Screenshots of each screen go to $SHOTS.
//
// Run by crates/motcua/tests/browser.rs with BASE (server URL), CHROMIUM (browser binary) and
// SHOTS (screenshot folder) set.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";
import { tinyPdf } from "./pdf.mjs";

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS || "screenshots";
const PASSWORD = "motcua@2026";
mkdirSync(SHOTS, { recursive: true });

async function api(path, { token, method = "GET", body } = {}) {
  const res = await fetch(BASE + path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function token(username) {
  const r = await api("/api/v1/auth/token", {
    method: "POST",
    body: { username, password: PASSWORD },
  });
  assert.equal(r.status, 200, `token for ${username}`);
  return r.json.token;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({
    path: `${SHOTS}/staff-${String(step).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
}

async function signIn(context, username) {
  const page = await context.newPage();
  await page.goto(BASE + "/dang-nhap");
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  return page;
}

try {
  // A citizen submits online at the demo commune (through the API, as the portal would).
  const me = await api("/api/v1/me", { token: await token("motcua.xa") });
  const commune = me.json.agency;
  const citizen = await token("congdan");
  // Online, every required document comes with its file: upload one and attach it to each.
  const upload = new FormData();
  upload.append("file", new Blob([tinyPdf()], { type: "application/pdf" }), "giay-to.pdf");
  const up = await fetch(BASE + "/api/v1/files", {
    method: "POST",
    headers: { authorization: `Bearer ${citizen}` },
    body: upload,
  });
  assert.equal(up.status, 201, `upload: ${up.status}`);
  const file = (await up.json()).key;
  const form = await api("/api/v1/procedures/1.001193/form");
  const required = form.json.form.uploads
    .filter((u) => u.required)
    .map((u) => ({ name: typeof u.name === "string" ? u.name : u.name.vi, file }));
  const sub = await api("/api/v1/dossiers", {
    token: citizen,
    method: "POST",
    body: {
      procedure_code: "1.001193",
      agency: commune,
      applicant: { name: "Lê Thị Hoa", personal_id: "068190001234", phone: "0912345678" },
      documents: [{ name: "Tờ khai đăng ký khai sinh" }, ...required],
      form: JSON.parse(process.env.FORM_1001193 || "{}"),
    },
  });
  assert.ok(sub.status === 201 || sub.status === 200, `submit: ${sub.status}`);
  const id = sub.json.dossier.id;

  // The desk officer: sign-in page, wrong password first.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
  const login = await desk.newPage();
  await login.goto(BASE + "/dang-nhap");
  await shot(login, "sign-in");
  await login.getByLabel("Tên đăng nhập").fill("motcua.xa");
  await login.getByLabel("Mật khẩu").fill("sai-mat-khau");
  await login.getByRole("button", { name: "Đăng nhập" }).click();
  await login.getByText("Sai tên đăng nhập hoặc mật khẩu").waitFor();
  assert.equal(await login.getByLabel("Tên đăng nhập").inputValue(), "motcua.xa", "kept what was typed");
  await shot(login, "sign-in-error");
  await login.getByLabel("Mật khẩu").fill(PASSWORD);
  await login.getByRole("button", { name: "Đăng nhập" }).click();
  await login.waitForURL(/\/can-bo$/);
  await login.getByRole("heading", { name: "Hồ sơ cần xử lý" }).waitFor();
  await shot(login, "inbox");

  // The new dossier is in the inbox, marked not received; open it.
  const row = login.locator(`a[href^="/can-bo/ho-so/${id}"]`);
  await row.click();
  await login.getByRole("heading", { name: /Hồ sơ/ }).waitFor();
  await shot(login, "dossier");

  // Refusing without a reason is refused with an explanation; nothing changes.
  await login.locator("summary", { hasText: "Từ chối tiếp nhận" }).click();
  await login.getByLabel("Lý do (mỗi dòng một lý do)").fill(" ");
  // Bypass the browser's own check to see the server's answer.
  await login.locator("form:has(input[value=refuse])").evaluate((f) => f.setAttribute("novalidate", ""));
  await login.getByRole("button", { name: "Từ chối tiếp nhận" }).click();
  await login.getByRole("alert").waitFor();
  await shot(login, "refusal-error");

  // Receive.
  await login.locator("summary", { hasText: "Tiếp nhận, cấp giấy hẹn" }).click();
  await login.locator("form:has(input[value=receive])").getByLabel("Ghi chú").fill("Đủ thành phần hồ sơ");
  await login.getByRole("button", { name: "Tiếp nhận, cấp giấy hẹn" }).click();
  await login.getByRole("status").waitFor();
  const body = await login.textContent("main");
  assert.match(body, new RegExp(`${commune.replaceAll(".", "\\.")}-\\d{6}-\\d{4}`), "code shown");
  assert.ok(body.includes("Đủ thành phần hồ sơ"), "note in the history");
  await shot(login, "received");

  // A phone-sized screen still shows the inbox.
  await login.setViewportSize({ width: 360, height: 780 });
  await login.goto(BASE + "/can-bo");
  await shot(login, "inbox-phone");

  // The leader reads the dossier's audit trail.
  const lead = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const lp = await signIn(lead, "lanhdao.xa");
  await lp.waitForURL(/\/can-bo$/);
  await lp.goto(`${BASE}/can-bo/nhat-ky?ho_so=${id}`);
  await lp.getByRole("cell", { name: "view" }).first().waitFor();
  await shot(lp, "audit");

  // A citizen is kept out of the workspace.
  const cit = await browser.newContext();
  const cp = await signIn(cit, "congdan");
  await cp.waitForURL(/\/ca-nhan$/);
  await shot(cp, "citizen-home");
  const res = await cp.goto(BASE + "/can-bo");
  assert.equal(res.status(), 403);
  console.log("staff workspace: ok");
} finally {
  await browser.close();
}
