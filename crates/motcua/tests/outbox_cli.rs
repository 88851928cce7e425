//! `motcua outbox hold|release|holds` (decision 0053) as an operator runs them: the real
//! binary on a data directory; bad targets and reasons refused with a message and nothing held;
//! holding twice and releasing what is not held answer exit code 1; both changes audited.

use std::process::{Command, Output};

fn motcua(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(["outbox"])
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("MOTCUA_LOG", "warn")
        .env("USER", "vanhanh")
        .output()
        .expect("run motcua")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_holds_and_releases_a_target_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("motcua-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();

    for (args, why) in [
        (vec!["hold", "ftp", "--reason", "bảo trì"], "unknown target"),
        (vec!["hold", "sms", "--reason", "  "], "reason"),
    ] {
        let o = motcua(&dir, &args);
        assert!(!o.status.success(), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(why), "{args:?}: {}", text(&o));
    }
    let o = motcua(&dir, &["hold", "sms"]);
    assert!(!o.status.success(), "no --reason: {}", text(&o));
    let o = motcua(&dir, &["holds"]);
    assert!(o.status.success());
    assert!(
        text(&o).contains("0 held"),
        "refusals held nothing: {}",
        text(&o)
    );

    let o = motcua(
        &dir,
        &[
            "hold",
            "dvcqg.sync",
            "--reason",
            "Cổng DVCQG bảo trì 22:00-24:00",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("held: dvcqg.sync"), "{}", text(&o));
    let o = motcua(&dir, &["hold", "dvcqg.sync", "--reason", "lần hai"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("held already"), "{}", text(&o));
    let o = motcua(&dir, &["holds"]);
    let t = text(&o);
    assert!(
        t.contains("dvcqg.sync") && t.contains("by=cli:vanhanh") && t.contains("bảo trì 22:00"),
        "{t}"
    );
    assert!(t.contains("1 held"), "{t}");

    let o = motcua(&dir, &["release", "dvcqg.sync"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = motcua(&dir, &["release", "dvcqg.sync"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("is not held"), "{}", text(&o));

    let store = motcua_store::Store::open(&format!("sqlite://{}/motcua.db", dir.display()))
        .await
        .unwrap();
    let audit = store
        .audit_trail(&motcua_store::AuditQuery {
            dossier_id: None,
            user_id: None,
            before: None,
            limit: 100,
        })
        .await
        .unwrap();
    let mine: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.action.starts_with("outbox_"))
        .map(|a| (a.action.as_str(), a.username.as_str()))
        .collect();
    assert_eq!(
        mine,
        [
            ("outbox_release", "cli:vanhanh"),
            ("outbox_hold", "cli:vanhanh")
        ],
        "newest first"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
