//! Browser tests: the scripts under `e2e/` drive Debian's headless Chromium with
//! playwright-core against a real seeded server. They run when Node.js, Chromium and
//! `e2e/node_modules` are present (`.ci/run` installs them); otherwise they print SKIPPED —
//! unless `MOTCUA_REQUIRE_BROWSER=1`, as CI sets it, which makes a missing browser a failure.
//! Screenshots land in `target/screenshots/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The browser binary, if the machine has one.
fn chromium() -> Option<PathBuf> {
    std::env::var_os("MOTCUA_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.exists())
}

fn ready() -> Option<PathBuf> {
    let node = Command::new("node").arg("--version").output().ok()?;
    let have_pw = root().join("e2e/node_modules/playwright-core").exists();
    let c = chromium()?;
    (node.status.success() && have_pw).then_some(c)
}

fn run_script(script: &str) {
    let Some(chromium) = ready() else {
        if std::env::var("MOTCUA_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("MOTCUA_REQUIRE_BROWSER=1 but Node.js, Chromium or e2e/node_modules is missing");
        }
        eprintln!("SKIPPED (browser): {script} needs node, chromium and `npm ci --prefix e2e`");
        return;
    };
    let base = common::base().to_string();
    let shots = root().join("target/screenshots");
    let out = Command::new("node")
        .arg(root().join("e2e").join(script))
        .env("BASE", &base)
        .env("CHROMIUM", chromium)
        .env("SHOTS", &shots)
        // A valid birth-registration declaration for the scripts' submissions.
        .env(
            "FORM_1001193",
            motcua::seed::forms::example("1.001193")
                .expect("a shipped example")
                .to_string(),
        )
        .output()
        .expect("run node");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    eprintln!("{text}");
}

#[test]
fn staff_workspace_in_a_real_browser() {
    run_script("staff.mjs");
}

#[test]
fn counter_reception_in_a_real_browser() {
    run_script("reception.mjs");
}

#[test]
fn citizen_portal_in_a_real_browser() {
    run_script("citizen.mjs");
}
