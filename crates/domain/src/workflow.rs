//! Declarative workflows (quy trình nội bộ): the steps a dossier goes through after reception,
//! who acts at each, each step's share of the time limit, and the moves allowed. Validated when
//! loaded: no unknown or unreachable step, no dead end, budgets that fit the legal limit.

use crate::agency::Role;
use crate::calendar::WorkingDuration;
use crate::codes::AgencyCode;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Which agency acts at a step, said symbolically in a procedure's template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "type", content = "code")]
pub enum StepAgency {
    /// The agency whose desk received the dossier.
    Receiving,
    /// The agency competent to decide (resolved per procedure and place).
    Competent,
    /// A named agency (e.g. a cooperating department in an inter-agency procedure).
    Agency(AgencyCode),
}

/// What kind of work a step is; it decides which commands apply there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Appraise, verify, consult, draft: completed by moving forward.
    Process,
    /// A leader approves (or sends back).
    Approve,
    /// The result is issued and returned to the applicant. The one terminal step.
    Release,
}

/// One step of a workflow template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StepDef {
    /// Identifier, unique in the workflow (e.g. `tham-dinh`).
    pub id: String,
    /// Name shown to people.
    pub name: String,
    /// Role that acts at this step.
    pub role: Role,
    /// Agency that acts at this step.
    pub agency: StepAgency,
    /// Kind of step.
    pub kind: StepKind,
    /// Working time allotted to this step.
    #[schema(value_type = i64, example = 480)]
    pub budget_minutes: i64,
    /// Steps this one may move forward to (empty only for the release step).
    #[serde(default)]
    pub next: Vec<String>,
}

impl StepDef {
    /// The step's budget as a working duration.
    pub fn budget(&self) -> WorkingDuration {
        WorkingDuration::minutes(self.budget_minutes)
    }
}

/// A workflow template: the first step is where a received dossier starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowDef {
    /// Steps; the first is the entry step.
    pub steps: Vec<StepDef>,
}

/// Why a workflow was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The workflow has no step.
    #[error("workflow has no step")]
    Empty,
    /// Two steps share an id.
    #[error("step id `{0}` is used twice")]
    DuplicateStep(String),
    /// A step id is empty or not a slug.
    #[error("step id `{0}` must be 1-40 chars of a-z, 0-9 and '-'")]
    BadStepId(String),
    /// A move names a step that does not exist.
    #[error("step `{from}` moves to unknown step `{to}`")]
    UnknownTarget {
        /// Step with the move.
        from: String,
        /// Missing target.
        to: String,
    },
    /// A step cannot be reached from the entry step.
    #[error("step `{0}` cannot be reached from the first step")]
    Unreachable(String),
    /// A step cannot lead to the release step.
    #[error("step `{0}` is a dead end: the release step cannot be reached from it")]
    DeadEnd(String),
    /// Not exactly one release step.
    #[error("a workflow needs exactly one release step, found {0}")]
    ReleaseCount(usize),
    /// The release step has forward moves.
    #[error("the release step `{0}` must not move forward")]
    ReleaseHasNext(String),
    /// No approval step.
    #[error("a workflow needs at least one approval step")]
    NoApproval,
    /// Role cannot act at a step of this kind.
    #[error("step `{step}`: role {role:?} cannot act at a {kind:?} step")]
    WrongRole {
        /// Step id.
        step: String,
        /// Role given.
        role: Role,
        /// Step kind.
        kind: StepKind,
    },
    /// A budget is not positive.
    #[error("step `{0}` must have a positive time budget")]
    NoBudget(String),
    /// Budgets exceed the procedure's legal limit.
    #[error("step budgets add up to {total} working minutes, more than the limit of {limit}")]
    OverLimit {
        /// Sum of budgets.
        total: i64,
        /// Legal limit.
        limit: i64,
    },
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl WorkflowDef {
    /// Checks the workflow against the procedure's time limit. Budgets are summed over all steps
    /// (a conservative bound that holds whichever branch a dossier takes).
    pub fn validate(&self, limit: WorkingDuration) -> Result<(), WorkflowError> {
        if self.steps.is_empty() {
            return Err(WorkflowError::Empty);
        }
        let mut index = HashMap::new();
        for (i, s) in self.steps.iter().enumerate() {
            if !is_slug(&s.id) {
                return Err(WorkflowError::BadStepId(s.id.clone()));
            }
            if index.insert(s.id.as_str(), i).is_some() {
                return Err(WorkflowError::DuplicateStep(s.id.clone()));
            }
        }
        let releases: Vec<&StepDef> = self
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Release)
            .collect();
        if releases.len() != 1 {
            return Err(WorkflowError::ReleaseCount(releases.len()));
        }
        if !releases[0].next.is_empty() {
            return Err(WorkflowError::ReleaseHasNext(releases[0].id.clone()));
        }
        if !self.steps.iter().any(|s| s.kind == StepKind::Approve) {
            return Err(WorkflowError::NoApproval);
        }
        for s in &self.steps {
            let ok = match s.kind {
                StepKind::Process => {
                    matches!(s.role, Role::Specialist | Role::Leader | Role::DeskOfficer)
                }
                StepKind::Approve => s.role == Role::Leader,
                StepKind::Release => matches!(s.role, Role::DeskOfficer | Role::Specialist),
            };
            if !ok {
                return Err(WorkflowError::WrongRole {
                    step: s.id.clone(),
                    role: s.role,
                    kind: s.kind,
                });
            }
            if s.budget_minutes <= 0 {
                return Err(WorkflowError::NoBudget(s.id.clone()));
            }
            for t in &s.next {
                if !index.contains_key(t.as_str()) {
                    return Err(WorkflowError::UnknownTarget {
                        from: s.id.clone(),
                        to: t.clone(),
                    });
                }
            }
        }
        // Reachability from the entry step.
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([0usize]);
        while let Some(i) = queue.pop_front() {
            if seen.insert(i) {
                for t in &self.steps[i].next {
                    queue.push_back(index[t.as_str()]);
                }
            }
        }
        if let Some(s) = self
            .steps
            .iter()
            .enumerate()
            .find(|(i, _)| !seen.contains(i))
        {
            return Err(WorkflowError::Unreachable(s.1.id.clone()));
        }
        // Every step must lead to the release step (walk the reversed graph from it).
        let release = index[releases[0].id.as_str()];
        let mut back = BTreeSet::new();
        let mut queue = VecDeque::from([release]);
        while let Some(i) = queue.pop_front() {
            if back.insert(i) {
                for (j, s) in self.steps.iter().enumerate() {
                    if s.next.iter().any(|t| index[t.as_str()] == i) {
                        queue.push_back(j);
                    }
                }
            }
        }
        if let Some(s) = self
            .steps
            .iter()
            .enumerate()
            .find(|(i, _)| !back.contains(i))
        {
            return Err(WorkflowError::DeadEnd(s.1.id.clone()));
        }
        let total: i64 = self.steps.iter().map(|s| s.budget_minutes).sum();
        if total > limit.as_minutes() {
            return Err(WorkflowError::OverLimit {
                total,
                limit: limit.as_minutes(),
            });
        }
        Ok(())
    }

    /// Finds a step by id.
    pub fn step(&self, id: &str) -> Option<&StepDef> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The entry step.
    pub fn first(&self) -> &StepDef {
        &self.steps[0]
    }

    /// Whether any step is owned by a named other agency (an inter-agency, liên thông, workflow).
    pub fn is_inter_agency(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.agency, StepAgency::Agency(_)))
    }

    /// The standard workflow for a procedure: appraisal at the competent agency, optionally a
    /// consultation at a cooperating agency and a review back home, leader approval, and release
    /// at the receiving desk. Budgets split the limit 10/45/20/10/15 (or 10/60/15/15 without a
    /// consultation), rounded down to whole minutes.
    pub fn standard(limit: WorkingDuration, cooperating: Option<AgencyCode>) -> WorkflowDef {
        let m = limit.as_minutes().max(5);
        let share = |pct: i64| (m * pct / 100).max(1);
        let step = |id: &str, name: &str, role, agency, kind, pct, next: &[&str]| StepDef {
            id: id.into(),
            name: name.into(),
            role,
            agency,
            kind,
            budget_minutes: share(pct),
            next: next.iter().map(|s| s.to_string()).collect(),
        };
        let mut steps = vec![step(
            "phan-cong",
            "Phân công xử lý",
            Role::Leader,
            StepAgency::Competent,
            StepKind::Process,
            10,
            &["tham-dinh"],
        )];
        match cooperating {
            Some(other) => {
                steps.push(step(
                    "tham-dinh",
                    "Thẩm định hồ sơ",
                    Role::Specialist,
                    StepAgency::Competent,
                    StepKind::Process,
                    45,
                    &["lay-y-kien", "trinh-duyet"],
                ));
                steps.push(step(
                    "lay-y-kien",
                    "Lấy ý kiến cơ quan phối hợp (liên thông)",
                    Role::Specialist,
                    StepAgency::Agency(other),
                    StepKind::Process,
                    20,
                    &["tham-dinh"],
                ));
                steps.push(step(
                    "trinh-duyet",
                    "Lãnh đạo phê duyệt",
                    Role::Leader,
                    StepAgency::Competent,
                    StepKind::Approve,
                    10,
                    &["tra-ket-qua"],
                ));
                steps.push(step(
                    "tra-ket-qua",
                    "Trả kết quả",
                    Role::DeskOfficer,
                    StepAgency::Receiving,
                    StepKind::Release,
                    15,
                    &[],
                ));
            }
            None => {
                steps.push(step(
                    "tham-dinh",
                    "Thẩm định hồ sơ",
                    Role::Specialist,
                    StepAgency::Competent,
                    StepKind::Process,
                    60,
                    &["trinh-duyet"],
                ));
                steps.push(step(
                    "trinh-duyet",
                    "Lãnh đạo phê duyệt",
                    Role::Leader,
                    StepAgency::Competent,
                    StepKind::Approve,
                    15,
                    &["tra-ket-qua"],
                ));
                steps.push(step(
                    "tra-ket-qua",
                    "Trả kết quả",
                    Role::DeskOfficer,
                    StepAgency::Receiving,
                    StepKind::Release,
                    15,
                    &[],
                ));
            }
        }
        WorkflowDef { steps }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit() -> WorkingDuration {
        WorkingDuration::days(5)
    }

    #[test]
    fn standard_workflows_are_valid() {
        WorkflowDef::standard(limit(), None)
            .validate(limit())
            .unwrap();
        let other: AgencyCode = "000.00.05.H40".parse().unwrap();
        let w = WorkflowDef::standard(limit(), Some(other));
        w.validate(limit()).unwrap();
        assert!(w.is_inter_agency());
        // Tiny limits still give positive budgets that fit.
        let tiny = WorkingDuration::hours(1);
        WorkflowDef::standard(tiny, None).validate(tiny).unwrap();
    }

    #[test]
    fn rejects_broken_workflows() {
        let base = WorkflowDef::standard(limit(), None);

        let mut w = base.clone();
        w.steps[1].next = vec!["nowhere".into()];
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::UnknownTarget { .. })
        ));

        let mut w = base.clone();
        w.steps[0].next = vec!["trinh-duyet".into()];
        assert_eq!(
            w.validate(limit()),
            Err(WorkflowError::Unreachable("tham-dinh".into()))
        );

        let mut w = base.clone();
        w.steps[1].next = vec!["tham-dinh".into()];
        w.steps[0].next = vec!["tham-dinh".into(), "trinh-duyet".into()];
        assert_eq!(
            w.validate(limit()),
            Err(WorkflowError::DeadEnd("tham-dinh".into()))
        );

        let mut w = base.clone();
        w.steps[1].id = "phan-cong".into();
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::DuplicateStep(_))
        ));

        let mut w = base.clone();
        w.steps[2].kind = StepKind::Process;
        assert_eq!(w.validate(limit()), Err(WorkflowError::NoApproval));

        let mut w = base.clone();
        w.steps[3].next = vec!["tham-dinh".into()];
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::ReleaseHasNext(_))
        ));

        let mut w = base.clone();
        w.steps[1].budget_minutes = 10_000;
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::OverLimit { .. })
        ));

        let mut w = base.clone();
        w.steps[2].role = Role::Specialist;
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::WrongRole { .. })
        ));

        let mut w = base.clone();
        w.steps[1].budget_minutes = 0;
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::NoBudget(_))
        ));

        let mut w = base;
        w.steps[1].id = "Thẩm định".into();
        assert!(matches!(
            w.validate(limit()),
            Err(WorkflowError::BadStepId(_))
        ));

        assert_eq!(
            WorkflowDef { steps: vec![] }.validate(limit()),
            Err(WorkflowError::Empty)
        );
    }
}
