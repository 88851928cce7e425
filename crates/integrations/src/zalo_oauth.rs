//! Keeps the Zalo Official Account's access token current. An OA access token lives about 25
//! hours; Zalo issues the next one for a refresh token (`POST
//! https://oauth.zaloapp.com/v4/oa/access_token`, header `secret_key: {app secret}`, form body
//! `refresh_token`, `app_id`, `grant_type=refresh_token`; answer `{access_token,
//! refresh_token, expires_in}` with `expires_in` in seconds, as a string or a number). Each
//! refresh token works **once**: the answer carries the next one. So the pair lives in the
//! store ([`motcua_store::Store::state`] under [`STATE_NAME`]), shared by every node and kept
//! across restarts, and is replaced by compare-and-set: of two nodes refreshing at once, one
//! wins and the other, whose refresh token is now spent, reads the winner's token.
//!
//! The refresh token an operator configures (`MOTCUA_ZALO_REFRESH_TOKEN`) starts a chain; a
//! different one configured later (after the chain broke, e.g. unused for three months) starts
//! a new chain. Tokens and the app secret are never logged.

use crate::target::DeliveryError;
use chrono::{DateTime, Duration, Utc};
use motcua_store::Store;
use serde::{Deserialize, Serialize};

/// Name of the stored state.
pub const STATE_NAME: &str = "zalo.oauth";

/// Zalo's production OAuth endpoint for OA tokens.
pub const OAUTH_URL: &str = "https://oauth.zaloapp.com/v4/oa/access_token";

/// Refresh this long before the access token expires.
const MARGIN_SECS: i64 = 600;

/// What the store keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    access_token: String,
    refresh_token: String,
    expires_at: DateTime<Utc>,
    /// The configured refresh token that started this chain.
    seed: String,
}

/// How the keeper reaches Zalo.
#[derive(Clone)]
pub struct OAuthClient {
    /// Token endpoint.
    pub url: String,
    /// The Zalo app's id.
    pub app_id: String,
    /// The app's secret key.
    pub secret_key: String,
    /// The refresh token an operator configured.
    pub refresh_token: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("url", &self.url)
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

/// The access token in force, refreshed when due (see the module documentation).
pub struct TokenKeeper {
    store: Store,
    http: reqwest::Client,
    client: OAuthClient,
    /// This node's copy, and the lock that makes one refresh at a time on this node.
    cache: tokio::sync::Mutex<Option<(String, DateTime<Utc>)>>,
    /// A token Zalo refused although it had not expired: refresh instead of using it again.
    refused: std::sync::Mutex<Option<String>>,
}

fn unavailable(what: impl std::fmt::Display) -> DeliveryError {
    DeliveryError::Unavailable(format!("Zalo OA token: {what}"))
}

impl TokenKeeper {
    /// A keeper reading and writing its state in `store`.
    pub fn new(store: Store, http: reqwest::Client, client: OAuthClient) -> TokenKeeper {
        TokenKeeper {
            store,
            http,
            client,
            cache: tokio::sync::Mutex::new(None),
            refused: std::sync::Mutex::new(None),
        }
    }

    fn is_refused(&self, token: &str) -> bool {
        self.refused
            .lock()
            .map(|r| r.as_deref() == Some(token))
            .unwrap_or(false)
    }

    /// Zalo refused `token` (error -124): the next [`TokenKeeper::token`] refreshes.
    pub fn refused(&self, token: &str) {
        if let Ok(mut r) = self.refused.lock() {
            *r = Some(token.to_string());
        }
    }

    /// The access token to send now, refreshed first when it is due, refused, or missing.
    pub async fn token(&self) -> Result<String, DeliveryError> {
        let mut cache = self.cache.lock().await;
        let fresh = |exp: DateTime<Utc>| exp - Duration::seconds(MARGIN_SECS) > Utc::now();
        if let Some((t, exp)) = cache.as_ref()
            && fresh(*exp)
            && !self.is_refused(t)
        {
            return Ok(t.clone());
        }
        for _ in 0..3 {
            let entry = self.store.state(STATE_NAME).await.map_err(unavailable)?;
            let stored = entry
                .as_ref()
                .and_then(|e| serde_json::from_str::<Stored>(&e.value).ok());
            let configured = self.client.refresh_token.trim();
            // A new refresh token from the operator starts a new chain.
            let current = stored.filter(|s| configured.is_empty() || s.seed == configured);
            if let Some(s) = &current
                && fresh(s.expires_at)
                && !self.is_refused(&s.access_token)
            {
                *cache = Some((s.access_token.clone(), s.expires_at));
                return Ok(s.access_token.clone());
            }
            let (refresh, seed) = match &current {
                Some(s) => (s.refresh_token.clone(), s.seed.clone()),
                None if !configured.is_empty() => (configured.to_string(), configured.to_string()),
                None => return Err(unavailable("no refresh token is configured")),
            };
            let next = match self.refresh(&refresh).await {
                Ok(n) => n,
                Err(e) => {
                    // Spent by another node meanwhile? Then its token is in the store.
                    let now = self.store.state(STATE_NAME).await.map_err(unavailable)?;
                    if now.map(|n| n.version) != entry.as_ref().map(|e| e.version) {
                        continue;
                    }
                    return Err(e);
                }
            };
            let value = Stored {
                access_token: next.0,
                refresh_token: next.1,
                expires_at: next.2,
                seed,
            };
            let json = serde_json::to_string(&value).map_err(unavailable)?;
            let swapped = match &entry {
                // A chain replaced by a new configured token overwrites the old one.
                Some(e) => {
                    self.store
                        .swap_state(STATE_NAME, Some(e.version), &json)
                        .await
                }
                None => self.store.swap_state(STATE_NAME, None, &json).await,
            }
            .map_err(unavailable)?;
            if swapped {
                tracing::info!(expires_at = %value.expires_at, "Zalo OA access token refreshed");
                *cache = Some((value.access_token.clone(), value.expires_at));
                return Ok(value.access_token);
            }
            // Another node stored its own refresh first; ours is valid too (Zalo answered), but
            // the chain continues from the one stored: read it.
        }
        Err(unavailable(
            "the stored token kept changing; try again later",
        ))
    }

    /// One refresh: (access token, next refresh token, expiry).
    async fn refresh(
        &self,
        refresh_token: &str,
    ) -> Result<(String, String, DateTime<Utc>), DeliveryError> {
        let resp = self
            .http
            .post(&self.client.url)
            .header("secret_key", &self.client.secret_key)
            .form(&[
                ("refresh_token", refresh_token),
                ("app_id", self.client.app_id.as_str()),
                ("grant_type", "refresh_token"),
            ])
            .send()
            .await
            .map_err(|e| unavailable(format!("token endpoint unreachable: {e}")))?;
        let status = resp.status();
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| unavailable(format!("HTTP {status}, answer is not JSON: {e}")))?;
        let text = |k: &str| {
            body[k]
                .as_str()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let (Some(access), Some(refresh)) = (text("access_token"), text("refresh_token")) else {
            let why = text("error_description")
                .or_else(|| text("error_name"))
                .or_else(|| text("message"))
                .unwrap_or_else(|| format!("HTTP {status}"));
            tracing::error!(error = %why, "Zalo refused to refresh the OA access token");
            return Err(unavailable(format!("refresh refused: {why}")));
        };
        let secs = body["expires_in"]
            .as_i64()
            .or_else(|| body["expires_in"].as_str().and_then(|s| s.parse().ok()))
            .filter(|s| *s > 0)
            .ok_or_else(|| unavailable("the answer has no expires_in"))?;
        Ok((access, refresh, Utc::now() + Duration::seconds(secs)))
    }
}

#[cfg(test)]
mod tests {
    use crate::sandbox::zalo::{FIRST_REFRESH_TOKEN, ZaloFaults, ZaloSandbox};
    use crate::target::{DeliveryError, Target};
    use crate::zalo::Zns;
    use motcua_store::{OutboxEntry, Store};

    fn entry(key: &str) -> OutboxEntry {
        crate::target::pending_entry(
            crate::zalo::TOPIC,
            key,
            serde_json::json!({"to": "0912345678", "event": "received",
                                        "params": {"ma_ho_so": "H40-261202-0001"}}),
        )
    }

    #[tokio::test]
    async fn the_access_token_is_refreshed_shared_and_kept_across_restarts() {
        let zalo = ZaloSandbox::start("127.0.0.1:0".parse().unwrap(), "fixed")
            .await
            .unwrap();
        let store = Store::open("sqlite::memory:").await.unwrap();
        let mut settings = zalo.refreshing_settings();
        settings.default_template = "tpl".into();
        assert!(Zns::refreshes(&settings));
        let node_a = Zns::new(settings.clone())
            .unwrap()
            .with_store(store.clone());
        let node_b = Zns::new(settings.clone())
            .unwrap()
            .with_store(store.clone());

        // The first message refreshes once; the second node uses the stored token.
        node_a.deliver(&entry("d1:1")).await.unwrap();
        node_b.deliver(&entry("d1:2")).await.unwrap();
        assert_eq!(zalo.state().refreshes, 1);
        let stored = store.state(super::STATE_NAME).await.unwrap().unwrap();
        let pair: serde_json::Value = serde_json::from_str(&stored.value).unwrap();
        assert_ne!(
            pair["refresh_token"], FIRST_REFRESH_TOKEN,
            "the spent one is replaced"
        );
        assert_eq!(
            pair["seed"], FIRST_REFRESH_TOKEN,
            "the chain remembers its start"
        );

        // Zalo says the token is no longer valid (-124): refreshed, and the message is retried.
        zalo.expire_tokens();
        let e = node_b.deliver(&entry("d1:3")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        node_b.deliver(&entry("d1:3")).await.unwrap();
        assert_eq!(zalo.state().refreshes, 2);
        // Node A still holds the expired one: refused, then it reads B's from the store.
        let e = node_a.deliver(&entry("d1:4")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        node_a.deliver(&entry("d1:4")).await.unwrap();
        assert_eq!(
            zalo.state().refreshes,
            2,
            "no refresh: B's token was still good"
        );

        // A token close to expiry is refreshed before use.
        zalo.set_token_lifetime(60);
        zalo.expire_tokens();
        let e = node_a.deliver(&entry("d1:5")).await;
        assert!(e.is_err());
        node_a.deliver(&entry("d1:5")).await.unwrap();
        assert_eq!(zalo.state().refreshes, 3);
        node_a.deliver(&entry("d1:6")).await.unwrap();
        assert_eq!(
            zalo.state().refreshes,
            4,
            "60 s left is inside the 10-minute margin: refreshed again"
        );
        zalo.set_token_lifetime(90_000);

        // A restart: a new client on the same database continues the chain (the configured
        // first refresh token is spent, the stored one is not).
        drop((node_a, node_b));
        let restarted = Zns::new(settings.clone())
            .unwrap()
            .with_store(store.clone());
        zalo.expire_tokens();
        let _ = restarted.deliver(&entry("d1:7")).await;
        restarted.deliver(&entry("d1:7")).await.unwrap();
        assert_eq!(
            zalo.state().refused_refreshes,
            0,
            "never sent a spent refresh token"
        );

        // OAuth down: unavailable, tried again later; a wrong secret: refused by Zalo.
        zalo.expire_tokens();
        zalo.set_faults(ZaloFaults {
            down: true,
            ..ZaloFaults::default()
        });
        let fresh_store = Store::open("sqlite::memory:").await.unwrap();
        let cold = Zns::new(settings.clone())
            .unwrap()
            .with_store(fresh_store.clone());
        let e = cold.deliver(&entry("d1:8")).await;
        assert!(matches!(e, Err(DeliveryError::Unavailable(_))), "{e:?}");
        zalo.set_faults(ZaloFaults::default());
        let mut wrong = settings.clone();
        wrong.secret_key = "guess".into();
        let bad = Zns::new(wrong.clone()).unwrap().with_store(fresh_store);
        let e = bad.deliver(&entry("d1:8")).await;
        assert!(
            matches!(e, Err(DeliveryError::Unavailable(ref m)) if m.contains("refused")),
            "{e:?}"
        );
        assert!(zalo.state().refused_refreshes >= 1);
        // Secrets never in the settings' Debug.
        let shown = format!("{wrong:?}");
        assert!(!shown.contains("guess") && !shown.contains(FIRST_REFRESH_TOKEN));
    }
}
