//! Procedures (thủ tục hành chính) as a dossier sees them: the published version in force,
//! its time limit, documents, fees and workflow, snapshotted into each dossier at submission.

use crate::calendar::WorkingDuration;
use crate::codes::{AgencyCode, ProcedureCode};
use crate::workflow::{StepAgency, WorkflowDef, WorkflowError};
use serde::{Deserialize, Serialize};

/// Online service level (Decree 42/2022 as amended).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnlineLevel {
    /// Dịch vụ công trực tuyến toàn trình.
    Full,
    /// Dịch vụ công trực tuyến một phần.
    Partial,
    /// Not offered online.
    None,
}

/// Level of government that implements a procedure here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Cấp tỉnh.
    Province,
    /// Cấp xã.
    Commune,
    /// Cấp bộ: a ministry; listed in the national catalogue, not run by a province.
    Ministry,
    /// Cơ quan khác: another body (courts, banks, ...).
    Other,
}

impl Level {
    /// Every level, for browsing.
    pub const ALL: [Level; 4] = [
        Level::Province,
        Level::Commune,
        Level::Ministry,
        Level::Other,
    ];

    /// Vietnamese name as the national catalogue writes it.
    pub fn label_vi(self) -> &'static str {
        match self {
            Level::Province => "Cấp tỉnh",
            Level::Commune => "Cấp xã",
            Level::Ministry => "Cấp bộ",
            Level::Other => "Cơ quan khác",
        }
    }

    /// English name.
    pub fn label_en(self) -> &'static str {
        match self {
            Level::Province => "Province",
            Level::Commune => "Commune",
            Level::Ministry => "Ministry",
            Level::Other => "Other body",
        }
    }

    /// The level named by `cap_thuc_hien` text ("Cấp tỉnh", "cap xa", ...), diacritics ignored.
    pub fn from_label(s: &str) -> Option<Level> {
        match crate::text::fold(s).as_str() {
            "cap tinh" => Some(Level::Province),
            "cap xa" => Some(Level::Commune),
            "cap bo" => Some(Level::Ministry),
            "co quan khac" => Some(Level::Other),
            _ => None,
        }
    }

    /// The snake_case name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::Commune => "commune",
            Level::Ministry => "ministry",
            Level::Other => "other",
        }
    }
}

impl OnlineLevel {
    /// Every online level, for browsing.
    pub const ALL: [OnlineLevel; 3] = [OnlineLevel::Full, OnlineLevel::Partial, OnlineLevel::None];

    /// Vietnamese name.
    pub fn label_vi(self) -> &'static str {
        match self {
            OnlineLevel::Full => "Dịch vụ công trực tuyến toàn trình",
            OnlineLevel::Partial => "Dịch vụ công trực tuyến một phần",
            OnlineLevel::None => "Chưa cung cấp trực tuyến",
        }
    }

    /// English name.
    pub fn label_en(self) -> &'static str {
        match self {
            OnlineLevel::Full => "Full online",
            OnlineLevel::Partial => "Partial online",
            OnlineLevel::None => "Not online",
        }
    }

    /// The snake_case name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OnlineLevel::Full => "full",
            OnlineLevel::Partial => "partial",
            OnlineLevel::None => "none",
        }
    }
}

/// Unit of a legal time limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    /// Ngày làm việc.
    WorkingDays,
    /// Giờ làm việc.
    WorkingHours,
}

/// A legal time limit, e.g. 5 working days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeLimit {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: TimeUnit,
}

impl TimeLimit {
    /// The limit as working time.
    pub fn duration(self) -> WorkingDuration {
        match self.unit {
            TimeUnit::WorkingDays => WorkingDuration::days(self.amount as i64),
            TimeUnit::WorkingHours => WorkingDuration::hours(self.amount as i64),
        }
    }

    /// Vietnamese text, e.g. "5 ngày làm việc".
    pub fn label_vi(self) -> String {
        match self.unit {
            TimeUnit::WorkingDays => format!("{} ngày làm việc", self.amount),
            TimeUnit::WorkingHours => format!("{} giờ làm việc", self.amount),
        }
    }
}

/// A document the applicant must attach (thành phần hồ sơ).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DocumentRequirement {
    /// Name of the document.
    pub name: String,
    /// Whether it is mandatory.
    pub required: bool,
}

/// Lifecycle of a procedure version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Being edited; accepts no dossier.
    Draft,
    /// In force; accepts dossiers.
    Published,
    /// Replaced by a later version.
    Superseded,
}

/// One version of a procedure as this province runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcedureVersion {
    /// National or local procedure code.
    #[schema(value_type = String, example = "1.001193")]
    pub code: ProcedureCode,
    /// Version number, from 1.
    pub version: u32,
    /// Draft, published or superseded.
    pub status: VersionStatus,
    /// Name with diacritics.
    pub name: String,
    /// Field (lĩnh vực).
    pub field: String,
    /// Levels that implement it here.
    pub levels: Vec<Level>,
    /// Online service level.
    pub online_level: OnlineLevel,
    /// Legal time limit.
    pub time_limit: TimeLimit,
    /// Fee in whole đồng (0 when free).
    pub fee_vnd: i64,
    /// Documents to attach.
    pub documents: Vec<DocumentRequirement>,
    /// Deciding document (số quyết định) that published this version.
    pub decision_no: String,
    /// Agency competent to decide at province level (commune procedures: the commune itself).
    #[schema(value_type = Option<String>)]
    pub competent_agency: Option<AgencyCode>,
    /// The internal workflow.
    pub workflow: WorkflowDef,
    /// What the catalogue shows beyond what a dossier needs (channels, forms, steps, legal
    /// basis, results), with the verbatim text it was read from. Older records have none.
    #[serde(default)]
    pub details: crate::catalogue::ProcedureDetails,
    /// The e-form of this version; `None` means the generic form built from the documents
    /// ([`crate::forms::generic_form`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub form: Option<crate::forms::FormDefinition>,
}

impl ProcedureVersion {
    /// The form applicants fill in: this version's own, or the generic one.
    pub fn form_or_generic(&self) -> std::borrow::Cow<'_, crate::forms::FormDefinition> {
        match &self.form {
            Some(f) => std::borrow::Cow::Borrowed(f),
            None => std::borrow::Cow::Owned(crate::forms::generic_form(self)),
        }
    }

    /// Validates the workflow against the limit.
    pub fn validate(&self) -> Result<(), WorkflowError> {
        self.workflow.validate(self.time_limit.duration())
    }

    /// Freezes what a dossier needs, resolving symbolic agencies for a dossier received at
    /// `receiving` and decided by `competent`.
    pub fn snapshot(&self, receiving: &AgencyCode, competent: &AgencyCode) -> ProcedureSnapshot {
        let steps = self
            .workflow
            .steps
            .iter()
            .map(|s| {
                let agency = match &s.agency {
                    StepAgency::Receiving => receiving.clone(),
                    StepAgency::Competent => competent.clone(),
                    StepAgency::Agency(a) => a.clone(),
                };
                ResolvedStep {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    role: s.role,
                    agency,
                    kind: s.kind,
                    budget_minutes: s.budget_minutes,
                    next: s.next.clone(),
                }
            })
            .collect();
        ProcedureSnapshot {
            code: self.code.clone(),
            version: self.version,
            name: self.name.clone(),
            time_limit: self.time_limit,
            fee_vnd: self.fee_vnd,
            steps,
            field: self.field.clone(),
            online_level: self.online_level,
        }
    }
}

/// A workflow step with its agency resolved to a real one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResolvedStep {
    /// Step id.
    pub id: String,
    /// Step name.
    pub name: String,
    /// Role that acts.
    pub role: crate::agency::Role,
    /// Agency that acts.
    #[schema(value_type = String)]
    pub agency: AgencyCode,
    /// Kind of step.
    pub kind: crate::workflow::StepKind,
    /// Budget in working minutes.
    pub budget_minutes: i64,
    /// Allowed forward moves.
    pub next: Vec<String>,
}

/// What a dossier keeps of its procedure: editing the procedure later never changes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProcedureSnapshot {
    /// Procedure code.
    #[schema(value_type = String)]
    pub code: ProcedureCode,
    /// Version submitted under.
    pub version: u32,
    /// Name at submission.
    pub name: String,
    /// Time limit at submission.
    pub time_limit: TimeLimit,
    /// Fee at submission.
    pub fee_vnd: i64,
    /// The workflow, resolved.
    pub steps: Vec<ResolvedStep>,
    /// Field (lĩnh vực) at submission, for statistics (empty in logs written before it was kept).
    #[serde(default)]
    pub field: String,
    /// Online service level at submission, for statistics (`none` in older logs).
    #[serde(default = "no_online_level")]
    pub online_level: OnlineLevel,
}

fn no_online_level() -> OnlineLevel {
    OnlineLevel::None
}

impl ProcedureSnapshot {
    /// Finds a step.
    pub fn step(&self, id: &str) -> Option<&ResolvedStep> {
        self.steps.iter().find(|s| s.id == id)
    }
}
