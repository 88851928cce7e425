//! Settings: defaults, then an optional TOML file, then `MOTCUA_*` environment variables, then
//! command-line flags. Every setting has a safe default.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Runtime settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: String,
    /// Where the SQLite file and the local file store live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://...`; empty means `sqlite://{data_dir}/motcua.db`.
    pub database_url: String,
    /// Seed the demo province on start when the catalogue is empty.
    pub seed_demo: bool,
    /// Log filter (tracing's EnvFilter syntax).
    pub log: String,
    /// Mark session cookies `Secure` (set it when the site is served over HTTPS; a proxy's
    /// `X-Forwarded-Proto: https` does the same per request).
    #[serde(default)]
    pub secure_cookies: bool,
    /// Address the public reaches this system at (printed in QR codes and links on the
    /// documents people hold), e.g. `https://dichvucong.example.gov.vn`.
    pub public_url: String,
    /// Outside systems and the outbox dispatcher (`[integrations]`).
    #[serde(default)]
    pub integrations: crate::integrations::IntegrationSettings,
    /// Uploaded files (`[files]`).
    #[serde(default)]
    pub files: FileSettings,
    /// The national population database as the identity source of counter reception
    /// (`[identity]`; off while its `url` is empty: the local records answer). Environment:
    /// `MOTCUA_IDENTITY_URL`, `MOTCUA_IDENTITY_TOKEN`.
    #[serde(default)]
    pub identity: motcua_web::population::PopulationSettings,
    /// SMTP relay for e-mails to applicants: `smtp://HOST:PORT` (plain),
    /// `smtp://HOST:PORT?tls=required` (STARTTLS) or `smtps://HOST:PORT`, optionally with
    /// `USER:PASSWORD@`; empty: e-mails wait in the outbox. Environment: `MOTCUA_SMTP_URL`.
    #[serde(default)]
    pub smtp_url: String,
    /// Sender of those e-mails. Environment: `MOTCUA_MAIL_FROM`.
    #[serde(default = "default_mail_from")]
    pub mail_from: String,
    /// The SMS gateway (generic HTTP protocol, docs/integrations.md); empty: SMS wait in the
    /// outbox. Environment: `MOTCUA_SMS_URL`.
    #[serde(default)]
    pub sms_url: String,
    /// Shared secret for the SMS gateway (set it with `MOTCUA_SMS_SECRET`, not in a file others
    /// read; never logged).
    #[serde(default)]
    pub sms_secret: String,
    /// Time limits of feedback handling in working days (`[feedback]`: `refuse_days` 2,
    /// `info_days` 5, `answer_days` 15, `publish_days` 2 by default, the Decision 766 rules).
    #[serde(default)]
    pub feedback: motcua_domain::feedback::FeedbackLimits,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets (the SMS secret, a password in the SMTP URL) never show.
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url)
            .field("seed_demo", &self.seed_demo)
            .field("log", &self.log)
            .field("secure_cookies", &self.secure_cookies)
            .field("public_url", &self.public_url)
            .field("integrations", &self.integrations)
            .field("files", &self.files)
            .field("identity", &self.identity)
            .field("email", &self.email())
            .field("sms", &self.sms())
            .field("feedback", &self.feedback)
            .finish()
    }
}

fn default_mail_from() -> String {
    "Hệ thống một cửa <motcua@localhost>".into()
}

/// `[files]`: where uploaded files are kept and how large they may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileSettings {
    /// Blob store: a folder, `file:///PATH`, or `s3://BUCKET[/PREFIX]?endpoint=...&region=...`
    /// (credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`); empty means
    /// `{data_dir}/files`. Environment: `MOTCUA_FILES_URL`.
    pub url: String,
    /// Largest file, in bytes (default 10 MiB). Environment: `MOTCUA_FILES_MAX_BYTES`.
    pub max_bytes: u64,
    /// Limits of particular upload slots (component names), in bytes.
    pub slot_max_bytes: std::collections::BTreeMap<String, u64>,
}

impl Default for FileSettings {
    fn default() -> FileSettings {
        FileSettings {
            url: String::new(),
            max_bytes: motcua_web::api::files::DEFAULT_MAX_BYTES,
            slot_max_bytes: Default::default(),
        }
    }
}

impl FileSettings {
    /// Takes `MOTCUA_FILES_URL` and `MOTCUA_FILES_MAX_BYTES` from the environment.
    pub fn with_env(mut self) -> Result<FileSettings, String> {
        if let Ok(u) = std::env::var("MOTCUA_FILES_URL")
            && !u.is_empty()
        {
            self.url = u;
        }
        if let Ok(m) = std::env::var("MOTCUA_FILES_MAX_BYTES")
            && !m.is_empty()
        {
            self.max_bytes = m
                .trim()
                .parse()
                .map_err(|_| format!("MOTCUA_FILES_MAX_BYTES: `{m}` is not a number of bytes"))?;
        }
        if self.max_bytes == 0 || self.slot_max_bytes.values().any(|v| *v == 0) {
            return Err("file size limits must be at least 1 byte".into());
        }
        Ok(self)
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("motcua-data"),
            database_url: String::new(),
            seed_demo: true,
            log: "info,tower_http=warn".into(),
            secure_cookies: false,
            public_url: "http://127.0.0.1:8080".into(),
            integrations: Default::default(),
            files: Default::default(),
            identity: Default::default(),
            smtp_url: String::new(),
            mail_from: default_mail_from(),
            sms_url: String::new(),
            sms_secret: String::new(),
            feedback: Default::default(),
        }
    }
}

impl Settings {
    /// Loads defaults < `file` (or `motcua.toml` if present) < `MOTCUA_*` variables.
    pub fn load(file: Option<&PathBuf>) -> Result<Settings, Box<figment::Error>> {
        let mut f = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(p) => f = f.merge(Toml::file_exact(p)),
            None => f = f.merge(Toml::file("motcua.toml")),
        }
        // Only our own keys: other MOTCUA_* variables (e.g. MOTCUA_TEST_DATABASE_URL) are not settings.
        let keys = [
            "listen",
            "data_dir",
            "database_url",
            "seed_demo",
            "log",
            "secure_cookies",
            "public_url",
            "smtp_url",
            "mail_from",
            "sms_url",
            "sms_secret",
        ];
        let mut s: Settings = f
            .merge(Env::prefixed("MOTCUA_").only(&keys))
            .extract()
            .map_err(Box::new)?;
        s.integrations = s.integrations.with_env();
        for (var, slot) in [
            ("MOTCUA_IDENTITY_URL", &mut s.identity.url),
            ("MOTCUA_IDENTITY_TOKEN", &mut s.identity.token),
        ] {
            if let Ok(v) = std::env::var(var)
                && !v.is_empty()
            {
                *slot = v;
            }
        }
        s.files = s
            .files
            .with_env()
            .map_err(|e| Box::new(figment::Error::from(e)))?;
        s.feedback
            .validate()
            .map_err(|e| Box::new(figment::Error::from(format!("[feedback]: {e}"))))?;
        Ok(s)
    }

    /// The public URL, checked: `http://` or `https://` and a host, without a trailing `/`.
    pub fn public_url(&self) -> Result<String, String> {
        let u = self.public_url.trim().trim_end_matches('/');
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))
            .ok_or_else(|| format!("public_url `{u}` must start with http:// or https://"))?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || u.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
            return Err(format!(
                "public_url `{u}` must be a base address like https://dichvucong.example.gov.vn"
            ));
        }
        Ok(u.to_string())
    }

    /// The e-mail settings.
    pub fn email(&self) -> motcua_integrations::email::EmailSettings {
        motcua_integrations::email::EmailSettings {
            smtp_url: self.smtp_url.trim().to_string(),
            mail_from: self.mail_from.trim().to_string(),
            timeout_ms: 0,
        }
    }

    /// The SMS gateway settings.
    pub fn sms(&self) -> motcua_integrations::sms::SmsSettings {
        motcua_integrations::sms::SmsSettings {
            url: self.sms_url.trim().to_string(),
            secret: self.sms_secret.clone(),
            request_timeout_ms: 0,
        }
    }

    /// The file storage URL in effect.
    pub fn files_url(&self) -> String {
        if self.files.url.is_empty() {
            self.data_dir.join("files").display().to_string()
        } else {
            self.files.url.clone()
        }
    }

    /// The file storage and limits in effect.
    pub fn files(&self) -> Result<motcua_web::api::files::Files, motcua_store::StoreError> {
        Ok(motcua_web::api::files::Files {
            blobs: motcua_store::Blobs::open(&self.files_url())?,
            max_bytes: self.files.max_bytes,
            slot_max_bytes: self.files.slot_max_bytes.clone(),
        })
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("motcua.db").display())
        } else {
            self.database_url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn defaults_are_safe_and_env_overrides() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.listen, "127.0.0.1:8080");
            assert_eq!(s.database_url(), "sqlite://motcua-data/motcua.db");
            assert_eq!(s.public_url().unwrap(), "http://127.0.0.1:8080");
            jail.set_env("MOTCUA_LISTEN", "0.0.0.0:9000");
            jail.set_env("MOTCUA_PUBLIC_URL", "https://dvc.lamdong.gov.vn/");
            jail.set_env("MOTCUA_TEST_DATABASE_URL", "postgres://elsewhere");
            jail.create_file(
                "motcua.toml",
                "seed_demo = false\ndata_dir = \"/srv/motcua\"",
            )?;
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.listen, "0.0.0.0:9000");
            assert!(!s.seed_demo);
            assert_eq!(s.database_url(), "sqlite:///srv/motcua/motcua.db");
            assert_eq!(s.public_url().unwrap(), "https://dvc.lamdong.gov.vn");
            assert_eq!(s.files_url(), "/srv/motcua/files");
            assert_eq!(s.files.max_bytes, 10 << 20);
            jail.set_env(
                "MOTCUA_FILES_URL",
                "s3://ho-so/motcua?region=ap-southeast-1",
            );
            jail.set_env("MOTCUA_FILES_MAX_BYTES", "5242880");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.files_url(), "s3://ho-so/motcua?region=ap-southeast-1");
            assert_eq!(s.files.max_bytes, 5 << 20);
            jail.set_env("MOTCUA_FILES_MAX_BYTES", "nhiều");
            assert!(Settings::load(None).is_err());
            jail.set_env("MOTCUA_FILES_MAX_BYTES", "");
            jail.set_env("MOTCUA_FILES_URL", "");
            jail.create_file(
                "files.toml",
                "[files]\nurl = \"tep\"\nmax_bytes = 1048576\nslot_max_bytes = { \"Ảnh chân dung\" = 2097152 }",
            )?;
            let s = Settings::load(Some(&"files.toml".into())).map_err(|e| *e)?;
            let f = s.files().map_err(|e| e.to_string())?;
            assert_eq!(f.blobs.describe(), "local folder tep");
            assert_eq!(f.limit(Some("Ảnh chân dung")), 2 << 20);
            assert_eq!(f.limit(None), 1 << 20);
            jail.set_env("MOTCUA_SMTP_URL", "smtp://relay:a-password@127.0.0.1:2525");
            jail.set_env("MOTCUA_MAIL_FROM", "Một cửa <motcua@lamdong.gov.vn>");
            jail.set_env("MOTCUA_SMS_URL", "http://127.0.0.1:8091/sms");
            jail.set_env("MOTCUA_SMS_SECRET", "sms-s3cret");
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(s.email().smtp_url, "smtp://relay:a-password@127.0.0.1:2525");
            assert_eq!(s.email().mail_from, "Một cửa <motcua@lamdong.gov.vn>");
            assert_eq!(s.sms().url, "http://127.0.0.1:8091/sms");
            assert_eq!(s.sms().secret, "sms-s3cret");
            let shown = format!("{s:?}");
            assert!(
                !shown.contains("sms-s3cret") && !shown.contains("a-password"),
                "{shown}"
            );
            jail.create_file("bad.toml", "lissten = 1")?;
            assert!(Settings::load(Some(&"bad.toml".into())).is_err());
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn feedback_limits_default_to_decision_766_and_are_checked() {
        figment::Jail::expect_with(|jail| {
            let s = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(
                s.feedback,
                motcua_domain::feedback::FeedbackLimits::default()
            );
            assert_eq!(
                (
                    s.feedback.refuse_days,
                    s.feedback.info_days,
                    s.feedback.answer_days,
                    s.feedback.publish_days
                ),
                (2, 5, 15, 2)
            );
            jail.create_file("pakn.toml", "[feedback]\nanswer_days = 10")?;
            let s = Settings::load(Some(&"pakn.toml".into())).map_err(|e| *e)?;
            assert_eq!((s.feedback.answer_days, s.feedback.refuse_days), (10, 2));
            for bad in [
                "[feedback]\nanswer_days = 0",
                "[feedback]\nrefuse_days = 7",
                "[feedback]\nanswer_dayz = 10",
            ] {
                jail.create_file("bad.toml", bad)?;
                assert!(Settings::load(Some(&"bad.toml".into())).is_err(), "{bad}");
            }
            Ok(())
        });
    }

    #[test]
    fn public_url_must_be_a_base_address() {
        let with = |u: &str| Settings {
            public_url: u.into(),
            ..Settings::default()
        };
        assert_eq!(
            with("https://dvc.example.gov.vn/motcua/")
                .public_url()
                .unwrap(),
            "https://dvc.example.gov.vn/motcua"
        );
        for bad in [
            "dvc.example.gov.vn",
            "ftp://x",
            "https://",
            "https://x/?a=1",
            "http://a b",
        ] {
            assert!(with(bad).public_url().is_err(), "{bad}");
        }
    }
}
