//! The public postal service on the dossier pages (the applicant's tracking page and the
//! staff's dossier page): the choice (pickup of the paper dossier, return of the result by
//! post) with its form, the orders placed with the post and every status it reported, in the
//! order of the post's time. Texts in Vietnamese and English.

use crate::AppState;
use minijinja::Value;
use motcua_domain::dossier::notice;
use motcua_domain::dossier::postal::pickup_open;
use motcua_domain::dossier::{Dossier, PostalAddress, PostalChoice, PostalKind};
use motcua_domain::forms::UnitLookup;
use motcua_domain::status::Status;
use serde::Serialize;
use std::collections::HashMap;

const VI: &[(&str, &str)] = &[
    ("h", "Dịch vụ bưu chính công ích"),
    ("none", "Chưa chọn dịch vụ bưu chính."),
    ("pickup", "Thu gom hồ sơ giấy tại nhà"),
    ("return", "Trả kết quả qua bưu chính"),
    ("name", "Người gửi / nhận"),
    ("phone", "Số điện thoại"),
    ("province", "Tỉnh, thành phố"),
    ("commune", "Mã xã, phường, đặc khu"),
    ("detail", "Số nhà, đường, thôn, tổ"),
    ("save", "Lưu lựa chọn bưu chính"),
    ("saved", "Đã lưu lựa chọn dịch vụ bưu chính."),
    ("orders", "Đơn hàng bưu chính"),
    ("order", "Số đơn hàng"),
    ("item", "Mã vận đơn"),
    ("state", "Trạng thái"),
    ("waiting", "Đang gửi đơn hàng cho bưu điện"),
    ("registered_at", "Ngày đăng ký bưu chính"),
    ("delivered_at", "Ngày phát"),
    (
        "locked",
        "Bưu điện đã nhận đơn thu gom: địa chỉ thu gom không đổi được nữa.",
    ),
    (
        "closed",
        "Hồ sơ đã kết thúc: không đổi được dịch vụ bưu chính.",
    ),
    (
        "arrived",
        "Bưu điện đã giao hồ sơ giấy đến bộ phận một cửa: kiểm tra và tiếp nhận hồ sơ.",
    ),
    ("to_post", "Trả kết quả qua bưu chính (giao cho bưu điện)"),
];

const EN: &[(&str, &str)] = &[
    ("h", "Public postal service"),
    ("none", "No postal service chosen."),
    ("pickup", "Pickup of the paper dossier at home"),
    ("return", "Return of the result by post"),
    ("name", "Sender / receiver"),
    ("phone", "Phone number"),
    ("province", "Province"),
    ("commune", "Commune code"),
    ("detail", "House number, street, hamlet"),
    ("save", "Save the postal choice"),
    ("saved", "The postal choice was saved."),
    ("orders", "Postal orders"),
    ("order", "Order number"),
    ("item", "Tracking number"),
    ("state", "Status"),
    ("waiting", "Sending the order to the post"),
    ("registered_at", "Postal registration"),
    ("delivered_at", "Delivered"),
    (
        "locked",
        "The post has the pickup order: its address can no longer change.",
    ),
    (
        "closed",
        "The dossier is closed: the postal service can no longer change.",
    ),
    (
        "arrived",
        "The post delivered the paper dossier to the one-stop desk: check and receive it.",
    ),
    ("to_post", "Return the result by post (hand it to the post)"),
];

/// The postal texts of `lang` for templates (`pt`).
pub(crate) fn texts(lang: &str) -> Value {
    let t = if lang == "en" { EN } else { VI };
    Value::from_iter(t.iter().copied())
}

/// The form as typed (kept when it is refused).
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Typed {
    pickup: bool,
    return_to: bool,
    p_name: String,
    p_phone: String,
    p_province: String,
    p_commune: String,
    p_detail: String,
    r_name: String,
    r_phone: String,
    r_province: String,
    r_commune: String,
    r_detail: String,
}

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_string()).unwrap_or_default()
}

impl Typed {
    /// From the posted fields (`pickup`/`return_to` ticked, `p_*` and `r_*`).
    pub(crate) fn from_form(f: &HashMap<String, String>) -> Typed {
        Typed {
            pickup: f.contains_key("pickup"),
            return_to: f.contains_key("return_to"),
            p_name: field(f, "p_name"),
            p_phone: field(f, "p_phone"),
            p_province: field(f, "p_province"),
            p_commune: field(f, "p_commune"),
            p_detail: field(f, "p_detail"),
            r_name: field(f, "r_name"),
            r_phone: field(f, "r_phone"),
            r_province: field(f, "r_province"),
            r_commune: field(f, "r_commune"),
            r_detail: field(f, "r_detail"),
        }
    }

    /// The choice in force, to fill the form with (the applicant's name and phone when none).
    pub(crate) fn from_dossier(d: &Dossier) -> Typed {
        let c = &d.postal;
        let or = |a: Option<&PostalAddress>, f: fn(&PostalAddress) -> &String, dflt: &str| {
            a.map(|a| f(a).clone()).unwrap_or_else(|| dflt.to_string())
        };
        let name = d.applicant.name.as_str();
        let phone = d.applicant.phone.as_deref().unwrap_or_default();
        let p = c.pickup.as_ref();
        let r = c.return_to.as_ref();
        Typed {
            pickup: p.is_some(),
            return_to: r.is_some(),
            p_name: or(p, |a| &a.name, name),
            p_phone: or(p, |a| &a.phone, phone),
            p_province: or(p, |a| &a.province, ""),
            p_commune: or(p, |a| &a.commune, ""),
            p_detail: or(p, |a| &a.detail, ""),
            r_name: or(r, |a| &a.name, name),
            r_phone: or(r, |a| &a.phone, phone),
            r_province: or(r, |a| &a.province, ""),
            r_commune: or(r, |a| &a.commune, ""),
            r_detail: or(r, |a| &a.detail, ""),
        }
    }

    /// Whether anything was asked.
    pub(crate) fn wants(&self) -> bool {
        self.pickup || self.return_to
    }

    /// The choice it asks for (the pickup as it stands when the form could not change it).
    pub(crate) fn choice(&self, d: &Dossier) -> PostalChoice {
        let mut c = self.choice_new();
        if d.postal_orders.iter().any(|o| o.kind == PostalKind::Pickup) {
            c.pickup = d.postal.pickup.clone();
        }
        c
    }

    /// The choice it asks for, on a dossier not yet submitted.
    pub(crate) fn choice_new(&self) -> PostalChoice {
        let addr =
            |name: &str, phone: &str, province: &str, commune: &str, detail: &str| PostalAddress {
                name: name.into(),
                phone: phone.into(),
                email: None,
                province: province.into(),
                commune: commune.into(),
                detail: detail.into(),
                province_name: String::new(),
                commune_name: String::new(),
            };
        PostalChoice {
            pickup: self.pickup.then(|| {
                addr(
                    &self.p_name,
                    &self.p_phone,
                    &self.p_province,
                    &self.p_commune,
                    &self.p_detail,
                )
            }),
            return_to: self.return_to.then(|| {
                addr(
                    &self.r_name,
                    &self.r_phone,
                    &self.r_province,
                    &self.r_commune,
                    &self.r_detail,
                )
            }),
        }
    }
}

#[derive(Serialize)]
struct StepRow {
    when: String,
    text: &'static str,
}

#[derive(Serialize)]
struct OrderRow {
    kind: &'static str,
    number: String,
    item: Option<String>,
    state: Option<&'static str>,
    address: String,
    registered: Option<String>,
    delivered: Option<String>,
    steps: Vec<StepRow>,
}

#[derive(Serialize)]
struct Option2 {
    code: String,
    name: String,
}

/// Everything the postal section of a dossier page needs: `pt` (texts), `postal` (the view),
/// `pf` (the form's values), `postal_error`.
pub(crate) async fn context(
    s: &AppState,
    d: &Dossier,
    lang: &str,
    typed: Option<Typed>,
    error: Option<&str>,
    saved: bool,
) -> Value {
    let en = lang == "en";
    let t: HashMap<&str, &str> = (if en { EN } else { VI }).iter().copied().collect();
    let orders: Vec<OrderRow> = d
        .postal_orders
        .iter()
        .map(|o| OrderRow {
            kind: t[if o.kind == PostalKind::Pickup {
                "pickup"
            } else {
                "return"
            }],
            number: o.order_number.clone(),
            item: o.item_code.clone(),
            state: o.state.map(|st| st.text(o.kind, en)),
            address: format!(
                "{}, {} — {}",
                o.address.name,
                o.address.phone,
                o.address.one_line()
            ),
            registered: o.registered_at.map(notice::time),
            delivered: o.delivered_at.map(notice::time),
            steps: o
                .steps
                .iter()
                .map(|st| StepRow {
                    when: notice::time(st.at),
                    text: st.state.text(o.kind, en),
                })
                .collect(),
        })
        .collect();
    let closed = matches!(
        d.status,
        Status::Refused | Status::Withdrawn | Status::Stopped | Status::Returned
    );
    let pickup_locked = d.postal_orders.iter().any(|o| o.kind == PostalKind::Pickup);
    // The paper dossier the post collected is at the desk: receive it.
    let arrived = d.status == Status::AwaitingReception
        && d.postal_orders.iter().any(|o| {
            o.kind == PostalKind::Pickup
                && o.state == Some(motcua_domain::dossier::PostalState::Delivered)
        });
    let (provinces, communes) = match s.units().await {
        Ok(u) => {
            let provinces: Vec<Option2> = u
                .provinces()
                .into_iter()
                .map(|(code, name)| Option2 { code, name })
                .collect();
            let first = provinces
                .first()
                .map(|p| p.code.clone())
                .unwrap_or_default();
            let communes: Vec<Option2> = u
                .communes(&first)
                .into_iter()
                .map(|(code, name)| Option2 { code, name })
                .collect();
            (provinces, communes)
        }
        Err(e) => {
            tracing::warn!(error = %e, "administrative units unavailable");
            (Vec::new(), Vec::new())
        }
    };
    let line = |a: &Option<PostalAddress>| {
        a.as_ref()
            .map(|a| format!("{}, {} — {}", a.name, a.phone, a.one_line()))
    };
    minijinja::context! {
        pt => texts(lang),
        postal => minijinja::context! {
            pickup => line(&d.postal.pickup),
            return_to => line(&d.postal.return_to),
            orders,
            closed,
            pickup_locked,
            pickup_open => pickup_open(d) && !pickup_locked,
            arrived,
            provinces,
            communes,
        },
        pf => typed.unwrap_or_else(|| Typed::from_dossier(d)),
        postal_error => error,
        postal_saved => saved,
    }
}
