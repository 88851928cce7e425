//! Taking one listed dossier: checked, files fetched and stored, submitted through the domain
//! with an idempotency key derived from the portal's id, acknowledged.

use super::map::{InboundDossier, Unusable, parse};
use super::portal::{Ack, Fetch, Portal};
use super::{IntakeSettings, PullReport};
use crate::AppState;
use bytes::Bytes;
use chrono::Utc;
use motcua_domain::agency::{Actor, Role};
use motcua_domain::codes::AgencyCode;
use motcua_domain::dossier::{Channel, Command, DocumentRef, ORIGIN_DVCQG, Origin, SubmitData};
use motcua_domain::files::{AttachmentKind, FileKey, display_name, sniff};
use motcua_store::{
    DossierFile, FileRecord, InboundNote, InboundStatus, SaveFile, StoreError, UserRecord,
};
use serde_json::Value;
use uuid::Uuid;

/// The source name of the national portal in the `inbound` table (and in idempotency keys).
pub const SOURCE: &str = ORIGIN_DVCQG;

/// The account intake acts under: a disabled system account (no password, cannot sign in)
/// that the stored files name as their uploader.
pub const INTAKE_USER: Uuid = Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_d7c9_0001);

const INTAKE_NAME: &str = "Cổng Dịch vụ công quốc gia";

/// Creates the intake account if it is missing.
pub(super) async fn ensure_intake_user(s: &AppState) -> Result<(), String> {
    if s.store
        .user(INTAKE_USER)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Ok(());
    }
    let u = UserRecord {
        id: INTAKE_USER,
        username: "he-thong.dvcqg".into(),
        // Not a PHC string: no password ever matches it.
        password_hash: "!".into(),
        name: INTAKE_NAME.into(),
        role: Role::Citizen,
        agency: None,
        disabled: true,
    };
    match s.store.create_user(u).await {
        Ok(()) => Ok(()),
        // Another node created it meanwhile.
        Err(StoreError::Duplicate(_)) => Ok(()),
        Err(e) => Err(format!("creating the intake account: {e}")),
    }
}

/// The actor of a submission taken in for `agency`'s desk.
fn actor(agency: &AgencyCode) -> Actor {
    Actor {
        user_id: INTAKE_USER,
        name: INTAKE_NAME.into(),
        role: Role::DeskOfficer,
        agency: Some(agency.clone()),
    }
}

fn idempotency_key(id: &str) -> String {
    format!("{SOURCE}:{id}")
}

async fn acknowledge(portal: &Portal, ack: Ack, r: &mut PullReport) {
    if let Err(e) = portal.ack(&ack).await {
        r.ack_failed += 1;
        tracing::warn!(target: "motcua::intake", code = %ack.code, error = %e, "acknowledgement failed; repeated on the next poll");
    }
}

/// Records a refusal and, if the settings say so, tells the portal.
async fn refuse(
    s: &AppState,
    portal: &Portal,
    settings: &IntakeSettings,
    id: &str,
    code: &str,
    reason: String,
    r: &mut PullReport,
) {
    let note = InboundNote {
        source: SOURCE.into(),
        external_id: id.into(),
        code: code.into(),
        reason: reason.clone(),
        rejected: true,
        reject_after: settings.file_attempts,
        at: Utc::now(),
    };
    if let Err(e) = s.store.note_inbound(note).await {
        r.errors
            .push(format!("recording the refusal of {code}: {e}"));
        return;
    }
    r.rejected += 1;
    if settings.ack_refusals {
        let ack = Ack {
            id: id.into(),
            code: code.into(),
            accepted: false,
            local: String::new(),
            reason,
        };
        acknowledge(portal, ack, r).await;
    }
}

/// Takes one list item.
pub(super) async fn one(
    s: &AppState,
    portal: &Portal,
    settings: &IntakeSettings,
    item: &Value,
    r: &mut PullReport,
) {
    let d = match parse(item) {
        Ok(d) => d,
        Err(Unusable::Unidentified) => {
            r.unidentified += 1;
            return;
        }
        Err(Unusable::Bad { id, code, reason }) => {
            if already_taken_or_refused(s, portal, settings, &id, &code, r).await {
                return;
            }
            refuse(
                s,
                portal,
                settings,
                &id,
                &code,
                format!("dữ liệu không hợp lệ: {reason}"),
                r,
            )
            .await;
            return;
        }
    };
    if already_taken_or_refused(s, portal, settings, &d.id, &d.code, r).await {
        return;
    }
    match submit(s, portal, settings, &d).await {
        Ok(local) => {
            r.taken += 1;
            if let Err(e) = s.store.clear_inbound(SOURCE, &d.id).await {
                tracing::warn!(target: "motcua::intake", error = %e, "clearing earlier failures");
            }
            let ack = Ack {
                id: d.id.clone(),
                code: d.code.clone(),
                accepted: true,
                local: local.to_string(),
                reason: String::new(),
            };
            acknowledge(portal, ack, r).await;
        }
        Err(Not::Refused(reason)) => refuse(s, portal, settings, &d.id, &d.code, reason, r).await,
        Err(Not::Files(reason)) => {
            let note = InboundNote {
                source: SOURCE.into(),
                external_id: d.id.clone(),
                code: d.code.clone(),
                reason: reason.clone(),
                rejected: false,
                reject_after: settings.file_attempts,
                at: Utc::now(),
            };
            match s.store.note_inbound(note).await {
                Ok(row) if row.status == InboundStatus::Rejected => {
                    r.rejected += 1;
                    if settings.ack_refusals {
                        let ack = Ack {
                            id: d.id.clone(),
                            code: d.code.clone(),
                            accepted: false,
                            local: String::new(),
                            reason: format!(
                                "không tải được tệp sau {} lần: {reason}",
                                row.attempts
                            ),
                        };
                        acknowledge(portal, ack, r).await;
                    }
                }
                Ok(_) => r.failing += 1,
                Err(e) => r
                    .errors
                    .push(format!("recording a failure of {}: {e}", d.code)),
            }
        }
        Err(Not::Ours(e)) => r.errors.push(format!("taking {}: {e}", d.code)),
    }
}

/// A dossier taken before (acknowledged again) or refused before (refusal repeated): `true`
/// when there is nothing more to do.
async fn already_taken_or_refused(
    s: &AppState,
    portal: &Portal,
    settings: &IntakeSettings,
    id: &str,
    code: &str,
    r: &mut PullReport,
) -> bool {
    match s
        .store
        .idempotent_dossier(INTAKE_USER, &idempotency_key(id))
        .await
    {
        Ok(Some(local)) => {
            r.again += 1;
            let ack = Ack {
                id: id.into(),
                code: code.into(),
                accepted: true,
                local: local.to_string(),
                reason: String::new(),
            };
            acknowledge(portal, ack, r).await;
            return true;
        }
        Ok(None) => {}
        Err(e) => {
            r.errors.push(format!("looking up {code}: {e}"));
            return true;
        }
    }
    match s.store.inbound(SOURCE, id).await {
        Ok(Some(row)) if row.status == InboundStatus::Rejected => {
            r.rejected += 1;
            if settings.ack_refusals {
                let ack = Ack {
                    id: id.into(),
                    code: code.into(),
                    accepted: false,
                    local: String::new(),
                    reason: row.reason,
                };
                acknowledge(portal, ack, r).await;
            }
            true
        }
        Ok(_) => false,
        Err(e) => {
            r.errors.push(format!("looking up {code}: {e}"));
            true
        }
    }
}

/// Why a dossier was not taken.
enum Not {
    /// For good: the reason (Vietnamese).
    Refused(String),
    /// Its files could not be fetched this time.
    Files(String),
    /// Our side failed (store): nothing recorded against the dossier.
    Ours(String),
}

/// A fetched, checked file.
struct Fetched {
    component: String,
    name: String,
    record: FileRecord,
    bytes: Bytes,
}

async fn submit(
    s: &AppState,
    portal: &Portal,
    settings: &IntakeSettings,
    d: &InboundDossier,
) -> Result<Uuid, Not> {
    let rec = s
        .published_procedure(&d.procedure)
        .await
        .map_err(|e| Not::Ours(e.to_string()))?
        .ok_or_else(|| {
            Not::Refused(format!(
                "thủ tục {} không có hoặc chưa được công bố ở đây",
                d.procedure
            ))
        })?;
    let receiving: AgencyCode = match &d.unit {
        Some(unit) => {
            let ours = settings.agencies.get(unit).unwrap_or(unit);
            ours.parse()
                .map_err(|_| Not::Refused(format!("đơn vị tiếp nhận {unit} không có ở đây")))?
        }
        None if rec.receiving_agencies.len() == 1 => rec.receiving_agencies[0].clone(),
        None => {
            return Err(Not::Refused(
                "thiếu MaDonViTiepNhan: thủ tục được tiếp nhận ở nhiều đơn vị".into(),
            ));
        }
    };
    if !rec.receiving_agencies.contains(&receiving) {
        return Err(Not::Refused(format!(
            "đơn vị {receiving} không tiếp nhận thủ tục {}",
            d.procedure
        )));
    }
    let competent = rec
        .version
        .competent_agency
        .clone()
        .unwrap_or_else(|| receiving.clone());
    // Every file first: a dossier is taken whole or not at all.
    let mut fetched = Vec::with_capacity(d.files.len());
    for f in &d.files {
        let bytes = portal.download(&f.url).await.map_err(|e| match e {
            Fetch::Again(m) => Not::Files(m),
            Fetch::Never(m) => Not::Refused(m),
        })?;
        let ty = sniff(&bytes).map_err(|refusal| {
            Not::Refused(format!("tệp «{}»: {}", f.file_name, refusal.message_vi()))
        })?;
        fetched.push(Fetched {
            component: f.component.clone(),
            name: display_name(&f.file_name, ty),
            record: FileRecord {
                key: FileKey::of(&bytes),
                size: bytes.len() as u64,
                mime: ty.mime().to_string(),
                created_at: Utc::now(),
            },
            bytes,
        });
    }
    for f in &fetched {
        s.files
            .blobs
            .put(&f.record.key, f.bytes.clone())
            .await
            .map_err(|e| Not::Ours(format!("storing a file: {e}")))?;
    }
    let mut documents: Vec<DocumentRef> = fetched
        .iter()
        .map(|f| DocumentRef {
            name: f.component.clone(),
            file: Some(f.record.key.reference()),
        })
        .collect();
    documents.extend(d.components.iter().map(|c| DocumentRef {
        name: c.clone(),
        file: None,
    }));
    let cmd = Command::Submit(Box::new(SubmitData {
        procedure: rec.version.snapshot(&receiving, &competent),
        applicant: d.applicant.clone(),
        channel: Channel::Online,
        receiving_agency: receiving.clone(),
        competent_agency: competent,
        documents,
        form: d.form.clone(),
        receive: false,
        postal_tracking: None,
        on_behalf_of: None,
        postal: None,
        origin: Some(Origin {
            system: SOURCE.into(),
            code: d.code.clone(),
        }),
    }));
    let who = actor(&receiving);
    let done = s
        .store
        .execute(crate::api::dossiers::job(
            s,
            Uuid::now_v7(),
            who,
            cmd,
            Some(format!("Nhận từ Cổng Dịch vụ công quốc gia, mã {}", d.code)),
            Some(0),
            Some((INTAKE_USER, idempotency_key(&d.id))),
        ))
        .await
        .map_err(|e| match e {
            StoreError::Domain(e) => Not::Refused(e.to_string()),
            e => Not::Ours(e.to_string()),
        })?;
    let now = Utc::now();
    for f in fetched {
        let saved = s
            .store
            .save_file(SaveFile {
                file: f.record.clone(),
                vault: vec![],
                links: vec![DossierFile {
                    dossier_id: done.dossier.id,
                    kind: AttachmentKind::Component,
                    slot: f.component.clone(),
                    key: f.record.key.clone(),
                    name: f.name.clone(),
                    uploaded_by: INTAKE_USER,
                    uploaded_at: now,
                }],
            })
            .await;
        if let Err(e) = saved {
            // The dossier's log names the file; the link is the listing's convenience.
            tracing::warn!(target: "motcua::intake", error = %e, dossier = %done.dossier.id, "linking a fetched file failed");
        }
    }
    if !done.replayed {
        metrics::counter!("motcua_dossiers_submitted_total", "channel" => "online").increment(1);
    }
    Ok(done.dossier.id)
}
