//! The national population database (Cơ sở dữ liệu quốc gia về dân cư) as an identity source,
//! reached through the province's data-sharing platform (LGSP).
//!
//! The protocol, after the fields the provinces' systems send and read (research notes §7.3;
//! the transport details are **not confirmed** by our sources and are settings):
//!
//! ```text
//! POST {url}
//! Authorization: Bearer {token}
//! Content-Type: application/json
//!
//! {"MaYeuCau": "<uuid>", "MaDVC": "{ma_dvc}", "MaTichHop": "{ma_tich_hop}",
//!  "MaCanBo": "<officer's user name>", "MucDich": "counter_reception",
//!  "SoDinhDanh": "068190004321"}
//! ```
//!
//! answered with a SOAP-style XML document
//! `Envelope/Body/CongdanCollection/CongDan` holding `SoDinhDanh`, `HoVaTen{Ho, ChuDem, Ten}`,
//! `GioiTinh`, `NgayThangNamSinh{NgayThangNam}` (yyyyMMdd), `ThuongTru` and `NoiOHienTai`
//! (`{MaTinhThanh, MaPhuongXa, TenTinhThanh, TenPhuongXa, ChiTiet}`), among others we do not
//! read; an empty collection means nobody has that number. Elements are matched by local name,
//! whatever their namespace prefix.
//!
//! What this source adds to a lookup: the name as registered, the date of birth, the gender and
//! the current residence. Phone and e-mail are not in the population database: they come from
//! this system's own latest record of the person, when there is one. Answers are kept in memory
//! for `cache_secs` (a desk looks the same person up several times while receiving) and never
//! written anywhere: only what the officer then puts on the dossier is stored.

use crate::cache::TtlCache;
use crate::error::ApiError;
use crate::identity::{BoxFuture, Identity, IdentityProvider, Purpose};
use axum::http::StatusCode;
use motcua_domain::agency::Actor;
use motcua_domain::codes::PersonalId;
use motcua_store::Store;
use quick_xml::events::Event;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Settings of the population-database source (`[identity]` in the settings file).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PopulationSettings {
    /// The LGSP endpoint of the population-database lookup; empty: the local source only.
    pub url: String,
    /// Bearer token of this system on the LGSP (set it with `MOTCUA_IDENTITY_TOKEN`; never
    /// logged).
    pub token: String,
    /// This system's public-service code (`MaDVC`).
    pub ma_dvc: String,
    /// The integration code the platform issued (`MaTichHop`).
    pub ma_tich_hop: String,
    /// Timeout of one lookup, in milliseconds (the officer waits: keep it short).
    pub timeout_ms: u64,
    /// How long an answer is kept in memory, in seconds (0: not at all).
    pub cache_secs: u64,
}

impl Default for PopulationSettings {
    fn default() -> Self {
        PopulationSettings {
            url: String::new(),
            token: String::new(),
            ma_dvc: String::new(),
            ma_tich_hop: String::new(),
            timeout_ms: 5_000,
            cache_secs: 300,
        }
    }
}

impl std::fmt::Debug for PopulationSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopulationSettings")
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .field("ma_dvc", &self.ma_dvc)
            .field("ma_tich_hop", &self.ma_tich_hop)
            .field("timeout_ms", &self.timeout_ms)
            .field("cache_secs", &self.cache_secs)
            .finish()
    }
}

/// A citizen as the population database describes them (what we read of it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Citizen {
    /// `SoDinhDanh`.
    pub personal_id: String,
    /// `HoVaTen`: family name, middle names and given name joined.
    pub name: String,
    /// `GioiTinh` (1 male, 2 female, as sent).
    pub gender: String,
    /// `NgayThangNamSinh/NgayThangNam` as `yyyy-mm-dd` (or as sent when not 8 digits).
    pub date_of_birth: String,
    /// The current residence (`NoiOHienTai`, else `ThuongTru`) in words.
    pub residence: String,
    /// The commune code of that residence.
    pub commune: String,
}

/// Reads the first `CongDan` of an answer; `Ok(None)` when the collection is empty, `Err`
/// when the document is not XML or has no `CongdanCollection`.
pub fn parse_answer(xml: &str) -> Result<Option<Citizen>, String> {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut seen_collection = false;
    let mut c = Citizen::default();
    let mut found = false;
    let (mut ho, mut dem, mut ten) = (String::new(), String::new(), String::new());
    let mut here = Place::default();
    let mut permanent = Place::default();
    // The text of the element being read: plain runs and entity references arrive as
    // separate events.
    let mut text = String::new();
    loop {
        match r.read_event().map_err(|e| format!("not XML: {e}"))? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "CongdanCollection" {
                    seen_collection = true;
                }
                if name == "CongDan" {
                    if found {
                        break; // the first citizen is the answer
                    }
                    found = true;
                }
                path.push(name);
                text.clear();
            }
            Event::Text(t) => {
                text.push_str(&t.decode().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::CData(t) => {
                text.push_str(&t.decode().map_err(|e| format!("bad text: {e}"))?);
            }
            Event::GeneralRef(g) => {
                if let Some(ch) = g
                    .resolve_char_ref()
                    .map_err(|e| format!("bad reference: {e}"))?
                {
                    text.push(ch);
                } else {
                    let name = g.decode().map_err(|e| format!("bad reference: {e}"))?;
                    let v = quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("unknown entity &{name};"))?;
                    text.push_str(v);
                }
            }
            Event::End(_) => {
                if let Some(at) = path.iter().position(|n| n == "CongDan") {
                    let value = text.trim().to_string();
                    let rel: Vec<&str> = path[at + 1..].iter().map(String::as_str).collect();
                    match rel.as_slice() {
                        [] => {
                            path.pop();
                            break; // the end of the first citizen
                        }
                        ["SoDinhDanh"] => c.personal_id = value,
                        ["HoVaTen", "Ho"] => ho = value,
                        ["HoVaTen", "ChuDem"] => dem = value,
                        ["HoVaTen", "Ten"] => ten = value,
                        // Some answers give the name in one piece.
                        ["HoVaTen"] if !value.is_empty() => c.name = value,
                        ["GioiTinh"] => c.gender = value,
                        ["NgayThangNamSinh", "NgayThangNam"] => c.date_of_birth = day(&value),
                        ["NoiOHienTai", field] => here.set(field, value),
                        ["ThuongTru", field] => permanent.set(field, value),
                        _ => {}
                    }
                }
                path.pop();
                text.clear();
            }
            Event::Empty(e) if e.local_name().as_ref() == b"CongdanCollection" => {
                seen_collection = true;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_collection {
        return Err("no CongdanCollection in the answer".into());
    }
    if !found {
        return Ok(None);
    }
    let parts: Vec<&str> = [ho.as_str(), dem.as_str(), ten.as_str()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    if !parts.is_empty() {
        c.name = parts.join(" ");
    }
    let place = if here.is_empty() { permanent } else { here };
    c.residence = place.words();
    c.commune = place.commune;
    if c.name.is_empty() {
        return Err("a CongDan without HoVaTen".into());
    }
    Ok(Some(c))
}

/// `yyyyMMdd` as `yyyy-mm-dd`.
fn day(s: &str) -> String {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])
    } else {
        s.to_string()
    }
}

#[derive(Default)]
struct Place {
    detail: String,
    commune_name: String,
    province_name: String,
    commune: String,
}

impl Place {
    fn set(&mut self, field: &str, text: String) {
        match field {
            "ChiTiet" => self.detail = text,
            "TenPhuongXa" => self.commune_name = text,
            "TenTinhThanh" => self.province_name = text,
            "MaPhuongXa" => self.commune = text,
            _ => {}
        }
    }

    fn is_empty(&self) -> bool {
        self.detail.is_empty() && self.commune_name.is_empty() && self.commune.is_empty()
    }

    fn words(&self) -> String {
        [&self.detail, &self.commune_name, &self.province_name]
            .into_iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The population database through the LGSP, with this system's own contact details added.
pub struct PopulationDb {
    settings: PopulationSettings,
    http: reqwest::Client,
    store: Store,
    cache: Arc<TtlCache<String, Option<Citizen>>>,
}

impl PopulationDb {
    /// A source over `settings`; `store` supplies the phone and e-mail last declared.
    pub fn new(settings: PopulationSettings, store: Store) -> Result<PopulationDb, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms.max(100)))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        let ttl = Duration::from_secs(settings.cache_secs);
        Ok(PopulationDb {
            settings,
            http,
            store,
            cache: Arc::new(TtlCache::new(ttl, 10_000)),
        })
    }

    fn unavailable(detail: String) -> ApiError {
        tracing::warn!(%detail, "population database lookup failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "identity-unavailable",
            "Population database unavailable",
            "the national population database did not answer; enter the details from the card",
        )
    }

    /// Asks the database (or the cache) who `personal_id` is.
    pub async fn citizen(
        &self,
        personal_id: &PersonalId,
        purpose: Purpose,
        actor: &Actor,
    ) -> Result<Option<Citizen>, ApiError> {
        let key = personal_id.as_str().to_string();
        if self.settings.cache_secs > 0
            && let Some(hit) = self.cache.get(&key)
        {
            return Ok(hit);
        }
        let body = serde_json::json!({
            "MaYeuCau": uuid::Uuid::new_v4().to_string(),
            "MaDVC": self.settings.ma_dvc,
            "MaTichHop": self.settings.ma_tich_hop,
            "MaCanBo": actor.name,
            "MucDich": purpose.as_str(),
            "SoDinhDanh": key,
        });
        let resp = self
            .http
            .post(&self.settings.url)
            .bearer_auth(&self.settings.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| Self::unavailable(format!("unreachable: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(Self::unavailable(format!("HTTP {status}")));
        }
        let text = resp
            .text()
            .await
            .map_err(|e| Self::unavailable(format!("reading the answer: {e}")))?;
        let found =
            parse_answer(&text).map_err(|e| Self::unavailable(format!("malformed: {e}")))?;
        // A record for another number is not an answer about this one.
        let found = found.filter(|c| c.personal_id.is_empty() || c.personal_id == key);
        if self.settings.cache_secs > 0 {
            self.cache.put(key, found.clone());
        }
        Ok(found)
    }
}

impl IdentityProvider for PopulationDb {
    fn source(&self) -> &'static str {
        "csdlqgdc"
    }

    fn lookup<'a>(
        &'a self,
        personal_id: &'a PersonalId,
        purpose: Purpose,
        actor: &'a Actor,
    ) -> BoxFuture<'a, Result<Option<Identity>, ApiError>> {
        Box::pin(async move {
            let Some(c) = self.citizen(personal_id, purpose, actor).await? else {
                return Ok(None);
            };
            // Contact details are not in the population database: ours, when we have them.
            let ours = self.store.latest_applicant(personal_id.as_str()).await?;
            Ok(Some(Identity {
                name: c.name,
                phone: ours.as_ref().and_then(|a| a.phone.clone()),
                email: ours.as_ref().and_then(|a| a.email.clone()),
                address: Some(c.residence)
                    .filter(|r| !r.is_empty())
                    .or_else(|| ours.and_then(|a| a.address)),
                date_of_birth: Some(c.date_of_birth).filter(|d| !d.is_empty()),
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
<CongdanCollection><CongDan>
  <SoDinhDanh>068190004321</SoDinhDanh><SoCMND/>
  <HoVaTen><Ho>Nguyễn</Ho><ChuDem>Thị</ChuDem><Ten>Lan</Ten></HoVaTen>
  <GioiTinh>2</GioiTinh>
  <NgayThangNamSinh><NgayThangNam>19900512</NgayThangNam><Nam>1990</Nam></NgayThangNamSinh>
  <ThuongTru><MaTinhThanh>68</MaTinhThanh><MaPhuongXa>24781</MaPhuongXa><ChiTiet>5 Hai Bà Trưng</ChiTiet></ThuongTru>
  <NoiOHienTai><MaTinhThanh>68</MaTinhThanh><TenTinhThanh>Lâm Đồng</TenTinhThanh><MaPhuongXa>24778</MaPhuongXa><TenPhuongXa>Phường Lâm Viên - Đà Lạt</TenPhuongXa><ChiTiet>12 Trần Phú &amp; hẻm 3</ChiTiet></NoiOHienTai>
  <Cha><HoVaTen>Nguyễn Văn A</HoVaTen></Cha>
</CongDan><CongDan><SoDinhDanh>068190009999</SoDinhDanh><HoVaTen>Người khác</HoVaTen></CongDan>
</CongdanCollection></soap:Body></soap:Envelope>"#;

    #[test]
    fn reads_the_first_citizen_of_an_answer_by_local_names() {
        let c = parse_answer(ANSWER).unwrap().unwrap();
        assert_eq!(c.personal_id, "068190004321");
        assert_eq!(c.name, "Nguyễn Thị Lan");
        assert_eq!(c.gender, "2");
        assert_eq!(c.date_of_birth, "1990-05-12");
        assert_eq!(
            c.residence,
            "12 Trần Phú & hẻm 3, Phường Lâm Viên - Đà Lạt, Lâm Đồng"
        );
        assert_eq!(c.commune, "24778");
    }

    #[test]
    fn empty_collections_mean_nobody_and_garbage_is_an_error() {
        let none = "<Envelope><Body><CongdanCollection/></Body></Envelope>";
        assert_eq!(parse_answer(none).unwrap(), None);
        let none = "<Envelope><Body><CongdanCollection></CongdanCollection></Body></Envelope>";
        assert_eq!(parse_answer(none).unwrap(), None);
        assert!(parse_answer("<html>502 Bad Gateway</html>").is_err());
        assert!(parse_answer("{\"error\": 1}").is_err());
        assert!(parse_answer("<a><b></a>").is_err());
        let nameless = "<Envelope><Body><CongdanCollection><CongDan><SoDinhDanh>1</SoDinhDanh></CongDan></CongdanCollection></Body></Envelope>";
        assert!(parse_answer(nameless).is_err());
    }

    #[test]
    fn the_token_is_never_shown() {
        let s = PopulationSettings {
            token: "s3cret".into(),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
