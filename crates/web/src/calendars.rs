//! The working calendars in force: the province's (the national schedule with the province's
//! own edits) and each agency's (its hours, cut-off and dated exceptions over the province's).
//! Built from the store at start and after every edit; deadlines of a dossier use the calendar
//! of the agency that received it.

use motcua_domain::calendar::{Calendar, CalendarSettings};
use motcua_domain::codes::AgencyCode;
use std::collections::HashMap;
use std::sync::Arc;

/// The scope name of the province-wide settings.
pub const PROVINCE: &str = "province";

/// Calendars by agency.
pub struct Calendars {
    province: Arc<Calendar>,
    agencies: HashMap<AgencyCode, Arc<Calendar>>,
    settings: HashMap<String, CalendarSettings>,
}

impl Calendars {
    /// Layers the stored settings over `base` (the national schedule). Settings that no longer
    /// validate are skipped with a warning rather than stopping the server.
    pub fn build(base: &Calendar, stored: Vec<(String, CalendarSettings)>) -> Calendars {
        let settings: HashMap<String, CalendarSettings> = stored.into_iter().collect();
        let province = match settings.get(PROVINCE).map(|s| base.with_settings(s)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                tracing::warn!(error = %e, "province calendar settings ignored");
                base.clone()
            }
            None => base.clone(),
        };
        let mut agencies = HashMap::new();
        for (scope, s) in &settings {
            if scope == PROVINCE {
                continue;
            }
            match (scope.parse::<AgencyCode>(), province.with_settings(s)) {
                (Ok(code), Ok(c)) => {
                    agencies.insert(code, Arc::new(c));
                }
                (code, cal) => {
                    tracing::warn!(scope, ?code, ?cal, "agency calendar settings ignored")
                }
            }
        }
        Calendars {
            province: Arc::new(province),
            agencies,
            settings,
        }
    }

    /// The calendar of `agency` (the province's when it has none of its own).
    pub fn for_agency(&self, agency: &AgencyCode) -> Arc<Calendar> {
        self.agencies
            .get(agency)
            .cloned()
            .unwrap_or_else(|| Arc::clone(&self.province))
    }

    /// The province's calendar.
    pub fn province(&self) -> Arc<Calendar> {
        Arc::clone(&self.province)
    }

    /// The stored settings of a scope.
    pub fn settings(&self, scope: &str) -> CalendarSettings {
        self.settings.get(scope).cloned().unwrap_or_default()
    }
}
