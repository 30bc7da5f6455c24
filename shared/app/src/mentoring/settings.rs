//! Mentor matching's settings: the weights and how long an offer stays open.

use crate::mentoring::DEFAULT_OFFER_DAYS;
use qnet_matching::Weights;

/// Matching configuration: the score's weights (`QNET_MATCHING_WEIGHTS`, the
/// JSON of `qnet_matching::Weights`; a missing field takes its default) and the
/// days a mentor has to answer (`QNET_MENTORING_OFFER_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MentoringSettings {
    pub weights: Weights,
    pub offer_days: u32,
}

impl Default for MentoringSettings {
    fn default() -> Self {
        MentoringSettings { weights: Weights::default(), offer_days: DEFAULT_OFFER_DAYS }
    }
}

impl MentoringSettings {
    /// From the variables' values (absent: defaults); the error names the variable.
    pub fn parse(weights: Option<&str>, offer_days: Option<&str>) -> Result<MentoringSettings, String> {
        let mut s = MentoringSettings::default();
        if let Some(w) = weights {
            s.weights = serde_json::from_str(w)
                .map_err(|e| format!("{} is not the JSON of the matching weights: {e}", crate::config::vars::MATCHING_WEIGHTS))?;
        }
        if let Some(d) = offer_days {
            s.offer_days = d.parse().ok().filter(|d| (1..=60).contains(d)).ok_or_else(|| {
                format!("{} must be a whole number of days from 1 to 60", crate::config::vars::MENTORING_OFFER_DAYS)
            })?;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_refuse_misspelt_weights() {
        assert_eq!(MentoringSettings::parse(None, None).unwrap(), MentoringSettings::default());
        let s = MentoringSettings::parse(Some(r#"{"topic_overlap": 80}"#), Some("3")).unwrap();
        assert_eq!((s.weights.topic_overlap, s.weights.skill_overlap, s.offer_days), (80, 30, 3));
        assert!(MentoringSettings::parse(Some(r#"{"topik_overlap": 80}"#), None).unwrap_err().contains("QNET_MATCHING_WEIGHTS"));
        assert!(MentoringSettings::parse(None, Some("0")).unwrap_err().contains("QNET_MENTORING_OFFER_DAYS"));
    }
}
