// Browser test of counter reception in real headless Chromium (Debian's), driven by
// playwright-core: a visitor takes a ticket at the kiosk, the desk officer calls it from the
// counter console, opens reception from it, finds the procedure, looks the applicant up, ticks and
// scans a paper component (a tiny PDF written here), is told what is missing (postal reception
// without a tracking number) without losing anything, receives the dossier and opens the receipt
// PDF; then the commune leader assigns and passes the step on, the specialist appraises, the
// leader approves, and the desk uploads the signed result and returns it, each from the dossier
// page. Then an inter-agency dossier at the provincial centre: received at the counter,
// transferred by the specialist to the consulted department with an attachment, sent back,
// approved and returned. Screenshots of each screen go to $SHOTS.
//
// Run by crates/motcua/tests/browser.rs with BASE, CHROMIUM and SHOTS set.
import { chromium } from "playwright-core";
import { mkdirSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS || "screenshots";
const PASSWORD = "motcua@2026";
const CENTRE = "H40.24781";
mkdirSync(SHOTS, { recursive: true });

// A one-page PDF with a correct cross-reference table: the scan of the declaration.
function tinyPdf() {
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
  ];
  let out = `%PDF-1.4\n% reception test ${Date.now()}\n`;
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out);
}
const scan = `${SHOTS}/reception-scan.pdf`;
writeFileSync(scan, tinyPdf());

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
let step = 0;
async function shot(page, name) {
  step += 1;
  await page.screenshot({
    path: `${SHOTS}/reception-${String(step).padStart(2, "0")}-${name}.png`,
    fullPage: true,
  });
}

try {
  // A visitor takes a ticket at the kiosk.
  const kiosk = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await kiosk.goto(`${BASE}/xep-hang/${CENTRE}`);
  await shot(kiosk, "kiosk");
  await kiosk.getByRole("button", { name: /Tư pháp - Hộ tịch/ }).click();
  await kiosk.waitForURL(/\/ve\//);
  const number = (await kiosk.locator(".number").textContent()).trim();
  assert.match(number, /^A\d{3,}$/, "a ticket number");
  await shot(kiosk, "ticket");

  // The desk officer signs in and calls it at counter 1.
  const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
  const page = await desk.newPage();
  await page.goto(`${BASE}/dang-nhap?next=/xep-hang/${CENTRE}/quay/1`);
  await page.getByLabel("Tên đăng nhập").fill("motcua.xa");
  await page.getByLabel("Mật khẩu").fill(PASSWORD);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.waitForURL(/\/quay\/1/);
  await page.getByRole("button", { name: "Gọi số tiếp theo" }).click();
  await page.locator(".num", { hasText: number }).waitFor();
  await shot(page, "console-called");

  // Reception from the ticket: the number is shown; find the procedure by words.
  await page.getByRole("link", { name: /Tiếp nhận hồ sơ/ }).click();
  await page.waitForURL(/\/can-bo\/tiep-nhan\?ve=/);
  assert.ok((await page.locator("#ticket").textContent()).includes(number), "ticket shown");
  await page.getByRole("searchbox").fill("dang ky khai sinh");
  await page.getByRole("button", { name: "Tìm thủ tục" }).click();
  await shot(page, "search");
  await page.locator('a[href*="thu_tuc=1.001193"]').first().click();
  await page.locator("#procedure-name").waitFor();
  await shot(page, "screen");

  // The applicant: a bad personal ID is refused, nothing typed is lost.
  await page.locator("#ho_ten").fill("Lê Văn Trình");
  await page.locator("#cccd").fill("12345");
  await page.getByRole("button", { name: "Tra cứu" }).click();
  await page.locator("#cccd-err").waitFor();
  assert.equal(await page.locator("#ho_ten").inputValue(), "Lê Văn Trình");
  await shot(page, "bad-personal-id");
  await page.locator("#cccd").fill("068095007777");
  await page.getByRole("button", { name: "Tra cứu" }).click();
  await page.locator("#message").waitFor();
  await page.locator("#dien_thoai").fill("0912000111");

  // The checklist: the first component received on paper, its scan uploaded.
  await page.locator("#nhan-0").check();
  await page.locator("#scan-0").setInputFiles(scan);
  // Post without a tracking number: told so, the scan stays attached.
  await page.locator("#kenh-post").check();
  await page.getByRole("button", { name: "Tiếp nhận hồ sơ, in giấy hẹn" }).click();
  await page.locator("#van_don-err").waitFor();
  assert.ok(await page.locator(".scan-ok").first().isVisible(), "the scan is kept");
  assert.equal(await page.locator("#ho_ten").inputValue(), "Lê Văn Trình");
  await shot(page, "tracking-missing");
  await page.locator("#kenh-counter").check();
  await page.getByRole("button", { name: "Tiếp nhận hồ sơ, in giấy hẹn" }).click();

  // The result: code and appointment, the receipt to print.
  await page.waitForLoadState();
  if (!(await page.locator("#dossier-code").count())) {
    await shot(page, "not-received");
    const errs = await page.locator(".err, .field-err").allTextContents();
    throw new Error(`not received: ${page.url()} ${errs.join(" | ")}`);
  }
  const code = (await page.locator("#dossier-code").textContent()).trim();
  assert.match(code, new RegExp(`${CENTRE.replaceAll(".", "\\.")}-\\d{6}-\\d{4}`), "code shown");
  assert.ok((await page.locator("#appointment").textContent()).match(/\d{2}\/\d{2}\/\d{4}/));
  await shot(page, "received");
  const href = await page.locator("#print-receipt").getAttribute("href");
  const pdf = await desk.request.get(BASE + href);
  assert.equal(pdf.status(), 200);
  assert.equal(pdf.headers()["content-type"], "application/pdf");
  assert.ok((await pdf.body()).subarray(0, 4).toString() === "%PDF", "the receipt is a PDF");

  // The dossier page shows the digitized component and the history with the ticket.
  await page.getByRole("link", { name: "Xem hồ sơ" }).click();
  await page.getByRole("heading", { name: new RegExp(code.replaceAll(".", "\\.")) }).waitFor();
  const body = await page.textContent("main");
  assert.ok(body.includes(`Số thứ tự ${number}`), "the ticket is in the history");
  await shot(page, "dossier");
  const dossierPath = new URL(page.url()).pathname;
  const id = dossierPath.split("/").pop();

  // Processing at the commune: the leader assigns the specialist and passes the first step on,
  // the specialist appraises, the leader approves; each acts from the dossier page.
  async function signedIn(user) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
    const p = await ctx.newPage();
    await p.goto(`${BASE}/dang-nhap?next=${encodeURIComponent(dossierPath)}`);
    await p.getByLabel("Tên đăng nhập").fill(user);
    await p.getByLabel("Mật khẩu").fill(PASSWORD);
    await p.getByRole("button", { name: "Đăng nhập" }).click();
    await p.waitForURL(/\/can-bo\/ho-so\//);
    return p;
  }
  async function act(p, label, fill) {
    const form = p.locator("details.act", { has: p.locator("summary", { hasText: label }) });
    await form.locator("summary").click();
    if (fill) await fill(form);
    await form.getByRole("button", { name: label }).click();
    await p.waitForURL(/xong=/);
  }
  const leader = await signedIn("lanhdao.xa");
  await act(leader, "Giao xử lý", (f) =>
    f.locator("select[name=user_id]").selectOption({ label: "Phan Văn Hải (chuyenvien.xa)" }),
  );
  await act(leader, "Hoàn thành bước, chuyển tiếp");
  await shot(leader, "leader-assigned");
  const specialist = await signedIn("chuyenvien.xa");
  await act(specialist, "Hoàn thành bước, chuyển tiếp");
  await shot(specialist, "specialist-done");
  await leader.goto(BASE + dossierPath);
  await act(leader, "Phê duyệt");
  await shot(leader, "approved");

  // The desk uploads the signed result and returns it at the counter.
  const result = `${SHOTS}/reception-result.pdf`;
  writeFileSync(result, tinyPdf());
  await page.goto(BASE + dossierPath);
  await act(page, "Có kết quả", async (f) => {
    await f.locator("input[name=summary]").fill("Giấy khai sinh bản chính");
    await f.locator("input[type=file]").setInputFiles(result);
  });
  await shot(page, "result-ready");
  await act(page, "Trả kết quả");
  await shot(page, "returned");
  const view = await desk.request.get(`${BASE}/api/v1/dossiers/${id}`);
  assert.equal(view.status(), 200);
  const v = await view.json();
  assert.equal(v.dossier.status, "returned", "the result was returned");
  assert.equal(v.national_status, 10);
  console.log("counter reception: ok");

  // An inter-agency (liên thông) dossier at the provincial centre: the construction permit
  // 1.013236 is received at the centre's counter, decided by Sở Xây dựng and consults Sở Nông
  // nghiệp và Môi trường. The specialist transfers it there with the appraisal report attached,
  // the other department's specialist sends it back, the leader approves, the desk returns it.
  async function signIn(user, next, wait) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "vi-VN" });
    const p = await ctx.newPage();
    await p.goto(`${BASE}/dang-nhap?next=${encodeURIComponent(next)}`);
    await p.getByLabel("Tên đăng nhập").fill(user);
    await p.getByLabel("Mật khẩu").fill(PASSWORD);
    await p.getByRole("button", { name: "Đăng nhập" }).click();
    await p.waitForURL(wait);
    return p;
  }
  const centre = await signIn("motcua.tinh", "/can-bo/tiep-nhan", /\/can-bo\/tiep-nhan/);
  await centre.getByRole("searchbox").fill("1.013236");
  await centre.getByRole("button", { name: "Tìm thủ tục" }).click();
  await centre.locator("#procedure-name").waitFor();
  await centre.locator("#ho_ten").fill("Trần Thị Mai");
  await centre.locator("#cccd").fill("068190004321");
  await centre.locator("#dien_thoai").fill("0912000222");
  await centre.locator("#nhan-0").check();
  await centre.locator("#scan-0").setInputFiles(scan);
  await centre.getByRole("button", { name: "Tiếp nhận hồ sơ, in giấy hẹn" }).click();
  await centre.waitForLoadState();
  if (!(await centre.locator("#dossier-code").count())) {
    await shot(centre, "inter-not-received");
    const errs = await centre.locator(".err, .field-err").allTextContents();
    throw new Error(`not received: ${centre.url()} ${errs.join(" | ")}`);
  }
  await shot(centre, "inter-received");
  await centre.getByRole("link", { name: "Xem hồ sơ" }).click();
  await centre.waitForURL(/\/can-bo\/ho-so\//);
  const interPath = new URL(centre.url()).pathname;
  const interId = interPath.split("/").pop();
  const onDossier = /\/can-bo\/ho-so\//;

  const lead = await signIn("lanhdao.sxd", interPath, onDossier);
  await act(lead, "Giao xử lý", (f) =>
    f.locator("select[name=user_id]").selectOption({ index: 0 }),
  );
  await act(lead, "Hoàn thành bước, chuyển tiếp");
  const spec = await signIn("chuyenvien.sxd", interPath, onDossier);
  const report = `${SHOTS}/reception-appraisal.pdf`;
  writeFileSync(report, tinyPdf());
  await act(spec, "Hoàn thành bước, chuyển tiếp", async (f) => {
    await f.locator("select[name=to]").selectOption("lay-y-kien");
    await f.locator("input[type=file]").setInputFiles(report);
    await f.locator("input[name=note]").fill("Xin ý kiến về đất đai");
  });
  await shot(spec, "inter-transferred");
  let iv = await (await spec.request.get(`${BASE}/api/v1/dossiers/${interId}`)).json();
  assert.equal(iv.dossier.current_agency, "000.00.06.H40", "transferred to Sở NN&MT");
  assert.ok(
    (await spec.textContent("main")).includes("Tài liệu kèm theo: reception-appraisal.pdf"),
    "the attachment is named in the history",
  );
  // The other department finds it in its inbox and sends its opinion back.
  const other = await signIn("chuyenvien.snnmt", "/can-bo", /\/can-bo/);
  await other.locator(`a[href*="${interId}"]`).first().click();
  await other.waitForURL(onDossier);
  await shot(other, "inter-other-agency");
  await act(other, "Hoàn thành bước, chuyển tiếp", (f) =>
    f.locator("input[name=note]").fill("Thống nhất"),
  );
  await spec.goto(BASE + interPath);
  await act(spec, "Hoàn thành bước, chuyển tiếp", (f) =>
    f.locator("select[name=to]").selectOption("trinh-duyet"),
  );
  await lead.goto(BASE + interPath);
  await act(lead, "Phê duyệt");
  await shot(lead, "inter-approved");
  await centre.goto(BASE + interPath);
  await act(centre, "Có kết quả", async (f) => {
    await f.locator("input[name=summary]").fill("Giấy phép xây dựng số 01/GPXD");
    await f.locator("input[type=file]").setInputFiles(result);
  });
  await act(centre, "Trả kết quả");
  await shot(centre, "inter-returned");
  iv = await (await centre.request.get(`${BASE}/api/v1/dossiers/${interId}`)).json();
  assert.equal(iv.dossier.status, "returned", "the inter-agency result was returned");
  console.log("inter-agency: ok");
} finally {
  await browser.close();
}
