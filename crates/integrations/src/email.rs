//! E-mail to applicants through SMTP (topic `email`): each outbox message carries the recipient,
//! the subject and the plain-text and HTML bodies, written with the event (see
//! `motcua_domain::dossier::notice`); this adapter only hands them to an SMTP relay. The
//! message's outbox key becomes its `Message-ID`, so a message sent twice (a lost answer) can
//! be recognised. SMTP answers 5xx (e.g. a refused address) make a dead letter; connection
//! failures and 4xx come back later.

use crate::target::{Delivery, DeliveryError, Target};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use motcua_store::OutboxEntry;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The outbox topic e-mails travel on.
pub const TOPIC: &str = motcua_domain::dossier::EMAIL_TOPIC;

/// Settings of the SMTP connection.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSettings {
    /// `smtp://HOST:PORT` (plain SMTP to a relay), `smtp://HOST:PORT?tls=required` (STARTTLS)
    /// or `smtps://HOST:PORT`, optionally with `USER:PASSWORD@` before the host; empty: no
    /// e-mail is sent (messages wait in the outbox).
    pub smtp_url: String,
    /// The sender, e.g. `Một cửa Lâm Đồng <motcua@lamdong.gov.vn>`.
    pub mail_from: String,
    /// Timeout of one SMTP session, in milliseconds (0: 10 s).
    pub timeout_ms: u64,
}

impl std::fmt::Debug for EmailSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        let url = match self.smtp_url.split_once('@') {
            Some((head, host)) if head.contains("://") => {
                format!(
                    "{}://[redacted]@{host}",
                    head.split("://").next().unwrap_or("")
                )
            }
            _ => self.smtp_url.clone(),
        };
        f.debug_struct("EmailSettings")
            .field("smtp_url", &url)
            .field("mail_from", &self.mail_from)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// The SMTP adapter.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Email {
    /// An adapter for the settings (checked: a usable URL and sender).
    pub fn new(s: &EmailSettings) -> Result<Email, String> {
        let from: Mailbox = s
            .mail_from
            .parse()
            .map_err(|e| format!("mail_from `{}`: {e}", s.mail_from))?;
        let ms = if s.timeout_ms == 0 {
            10_000
        } else {
            s.timeout_ms
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&s.smtp_url)
            .map_err(|e| format!("smtp_url: {e}"))?
            .timeout(Some(Duration::from_millis(ms)))
            .build();
        Ok(Email { transport, from })
    }

    async fn send(&self, m: &OutboxEntry) -> Result<(), DeliveryError> {
        let field = |k: &str| {
            m.payload[k]
                .as_str()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| DeliveryError::Rejected(format!("e-mail without `{k}`")))
        };
        let to: Mailbox = field("to")?
            .trim()
            .parse()
            .map_err(|e| DeliveryError::Rejected(format!("recipient address: {e}")))?;
        let id: String = m
            .key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
            .collect();
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(field("subject")?)
            .message_id(Some(format!("<{id}@motcua>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(field("text")?.to_string()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(field("html")?.to_string()),
                    ),
            )
            .map_err(|e| DeliveryError::Rejected(format!("building the e-mail: {e}")))?;
        match self.transport.send(msg).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(DeliveryError::Rejected(format!(
                "the SMTP server refused the message: {e}"
            ))),
            Err(e) => Err(DeliveryError::Unavailable(format!("SMTP: {e}"))),
        }
    }
}

impl Target for Email {
    fn topic(&self) -> &str {
        TOPIC
    }

    fn deliver<'a>(&'a self, message: &'a OutboxEntry) -> Delivery<'a> {
        Box::pin(self.send(message))
    }
}
