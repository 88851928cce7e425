//! `apply`: folds one event into the state. Total over valid logs; a log that cannot be folded
//! (an event that makes no sense in the state) is reported as corrupt.

use super::decide::pause_kind;
use super::postal::{PostalKind, PostalOrder, order_number, pickup_open};
use super::{DomainError, Dossier, Event, EventBody, Pause, PaymentRequest, Rating, ReturnMethod};
use crate::status::Status;
use uuid::Uuid;

fn corrupt(msg: &str, ev: &Event) -> DomainError {
    DomainError::CorruptLog(format!("{msg} (event `{}` at {})", ev.body.kind(), ev.at))
}

/// Applies `event` to `state` (`None` before the first event) of dossier `id`.
pub fn apply(state: Option<Dossier>, id: Uuid, event: &Event) -> Result<Dossier, DomainError> {
    let mut d = match (state, &event.body) {
        (
            None,
            EventBody::Submitted {
                procedure,
                applicant,
                owner,
                channel,
                receiving_agency,
                competent_agency,
                documents,
                form,
                postal_tracking,
                origin,
                postal,
                reused,
                identity,
            },
        ) => {
            let postal = postal.clone().unwrap_or_default();
            // An online dossier that asked for pickup: the order goes out with the submission.
            let postal_orders = match (&postal.pickup, channel) {
                (Some(addr), super::Channel::Online) => vec![PostalOrder::new(
                    PostalKind::Pickup,
                    order_number(id, None, PostalKind::Pickup),
                    addr.clone(),
                    event.at,
                )],
                _ => Vec::new(),
            };
            return Ok(Dossier {
                id,
                code: None,
                procedure: procedure.clone(),
                applicant: applicant.clone(),
                owner: *owner,
                channel: *channel,
                postal_tracking: postal_tracking.clone(),
                origin: origin.clone(),
                reused: reused.clone(),
                identity: identity.clone(),
                receiving_agency: receiving_agency.clone(),
                competent_agency: competent_agency.clone(),
                current_agency: receiving_agency.clone(),
                status: Status::AwaitingReception,
                step: None,
                trail: Vec::new(),
                assignee: None,
                documents: documents.clone(),
                form: form.clone(),
                submitted_at: event.at,
                received_at: None,
                due_at: None,
                original_due_at: None,
                step_due_at: None,
                pause: None,
                supplement_requests: 0,
                payment: None,
                fees: Default::default(),
                apologies: 0,
                approved: false,
                result: None,
                result_documents: Vec::new(),
                finished_at: None,
                timeliness: None,
                returned_at: None,
                rating: None,
                postal,
                postal_orders,
                version: 1,
            });
        }
        (None, _) => return Err(corrupt("the log does not start with a submission", event)),
        (Some(_), EventBody::Submitted { .. }) => {
            return Err(corrupt("a second submission", event));
        }
        (Some(d), _) => d,
    };
    if let Some(kind) = pause_kind(&event.body) {
        d.pause = Some(Pause {
            kind,
            since: event.at,
            resume_to: d.status,
        });
    }
    match &event.body {
        EventBody::Submitted { .. } => unreachable!("handled above"),
        EventBody::Received {
            code,
            due_at,
            step,
            step_agency,
            step_due_at,
            ..
        } => {
            d.code = Some(code.clone());
            d.received_at = Some(event.at);
            d.due_at = Some(*due_at);
            d.original_due_at = Some(*due_at);
            d.step = Some(step.clone());
            d.current_agency = step_agency.clone();
            d.step_due_at = Some(*step_due_at);
            d.status = Status::Received;
        }
        EventBody::SupplementRequested { at_reception, .. } => {
            if *at_reception {
                d.status = Status::SupplementAtReception;
            } else {
                d.supplement_requests += 1;
                d.status = Status::SupplementRequested;
            }
        }
        EventBody::Supplemented {
            documents,
            due_at,
            original_due_at,
            step_due_at,
            ..
        } => {
            d.documents.extend(documents.iter().cloned());
            d.status = match d.pause.take() {
                Some(p) => p.resume_to,
                None => Status::AwaitingReception,
            };
            if let Some(t) = due_at {
                d.due_at = Some(*t);
            }
            if let Some(t) = original_due_at {
                d.original_due_at = Some(*t);
            }
            if let Some(t) = step_due_at {
                d.step_due_at = Some(*t);
            }
        }
        EventBody::Refused { .. } => {
            d.status = Status::Refused;
            d.finished_at = Some(event.at);
        }
        EventBody::Assigned { user_id, .. } => d.assignee = Some(*user_id),
        EventBody::StepCompleted {
            from,
            to,
            to_agency,
            step_due_at,
            ..
        }
        | EventBody::Approved {
            from,
            to,
            to_agency,
            step_due_at,
            ..
        } => {
            if d.step.as_deref() != Some(from.as_str()) {
                return Err(corrupt("move from a step the dossier is not at", event));
            }
            if matches!(event.body, EventBody::Approved { .. }) {
                d.approved = true;
            }
            d.trail.push(from.clone());
            d.step = Some(to.clone());
            d.step_due_at = Some(*step_due_at);
            if *to_agency != d.current_agency {
                d.assignee = None;
            }
            d.current_agency = to_agency.clone();
            d.status = Status::Processing;
        }
        EventBody::SentBack {
            to,
            to_agency,
            step_due_at,
            ..
        } => {
            if d.trail.pop().as_deref() != Some(to.as_str()) {
                return Err(corrupt("sent back to a step not last passed", event));
            }
            d.step = Some(to.clone());
            d.step_due_at = Some(*step_due_at);
            if *to_agency != d.current_agency {
                d.assignee = None;
            }
            d.current_agency = to_agency.clone();
            d.status = Status::Processing;
        }
        EventBody::TransferredToAgency { to_agency, .. } => {
            d.current_agency = to_agency.clone();
        }
        EventBody::PaymentRequested { amount_vnd, reason } => {
            d.payment = Some(PaymentRequest {
                amount_vnd: *amount_vnd,
                reason: reason.clone(),
                reference: None,
            });
            d.status = Status::AwaitingPayment;
        }
        EventBody::PaymentConfirmed {
            reference,
            due_at,
            original_due_at,
            step_due_at,
            ..
        } => {
            if let Some(p) = d.payment.as_mut() {
                p.reference = Some(reference.clone());
            }
            d.status = d
                .pause
                .take()
                .map(|p| p.resume_to)
                .ok_or_else(|| corrupt("payment confirmed without a pause", event))?;
            if let Some(t) = due_at {
                d.due_at = Some(*t);
            }
            if let Some(t) = original_due_at {
                d.original_due_at = Some(*t);
            }
            if let Some(t) = step_due_at {
                d.step_due_at = Some(*t);
            }
        }
        EventBody::FeePaid { amount_vnd, .. } => d.fees.paid_vnd += amount_vnd,
        EventBody::FeeExempted { amount_vnd, .. } => d.fees.exempted_vnd += amount_vnd,
        EventBody::ResultReady {
            summary,
            documents,
            timeliness,
        } => {
            d.result = Some(summary.clone());
            d.result_documents = documents.clone();
            d.timeliness = Some(*timeliness);
            d.finished_at = Some(event.at);
            d.status = Status::ResultReady;
        }
        EventBody::ResultReturned { method, .. } => {
            d.returned_at = Some(event.at);
            d.status = Status::Returned;
            if *method == ReturnMethod::Post
                && let Some(addr) = &d.postal.return_to
            {
                let number = order_number(id, d.code.as_ref(), PostalKind::Return);
                d.postal_orders.push(PostalOrder::new(
                    PostalKind::Return,
                    number,
                    addr.clone(),
                    event.at,
                ));
            }
        }
        EventBody::Withdrawn { .. } => {
            d.pause = None;
            d.finished_at = Some(event.at);
            d.status = Status::Withdrawn;
        }
        EventBody::ProcessingStopped { .. } => {
            d.pause = None;
            d.finished_at = Some(event.at);
            d.status = Status::Stopped;
        }
        EventBody::ApologyIssued { new_due_at, .. } => {
            d.apologies += 1;
            d.due_at = Some(*new_due_at);
        }
        EventBody::Rated { score, comment } => {
            d.rating = Some(Rating {
                score: *score,
                comment: comment.clone(),
            });
        }
        EventBody::NotificationsChanged { channels } => d.applicant.notify = Some(*channels),
        EventBody::PostalChoiceChanged { choice } => {
            let ordered = d.postal_orders.iter().any(|o| o.kind == PostalKind::Pickup);
            if !ordered
                && let Some(addr) = &choice.pickup
                && pickup_open(&d)
            {
                d.postal_orders.push(PostalOrder::new(
                    PostalKind::Pickup,
                    order_number(id, None, PostalKind::Pickup),
                    addr.clone(),
                    event.at,
                ));
            }
            d.postal = choice.clone();
        }
        EventBody::PostalStatusReported {
            order_number,
            item_code,
            state,
            happened_at,
            ..
        } => {
            let order = d
                .postal_orders
                .iter_mut()
                .rev()
                .find(|o| o.order_number == *order_number)
                .ok_or_else(|| corrupt("a postal status of an unknown order", event))?;
            order.record(*state, *happened_at, item_code.as_deref());
            // A picked-up paper dossier arrives with the post's tracking number.
            if order.kind == PostalKind::Pickup && d.postal_tracking.is_none() {
                d.postal_tracking = order.item_code.clone();
            }
        }
    }
    d.version += 1;
    Ok(d)
}

/// Folds a whole log.
pub fn replay<'a>(
    id: Uuid,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Option<Dossier>, DomainError> {
    let mut state = None;
    for e in events {
        state = Some(apply(state, id, e)?);
    }
    Ok(state)
}
