//! The QI topic taxonomy. Records refer to topics by `id`.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Topic {
    pub id: &'static str,
    pub name: &'static str,
}

pub const TOPICS: &[Topic] = &[
    Topic { id: "patient-safety", name: "Patient safety" },
    Topic { id: "patient-experience", name: "Patient and carer experience" },
    Topic { id: "flow", name: "Patient flow and discharge" },
    Topic { id: "waiting-times", name: "Waiting times and access" },
    Topic { id: "primary-care", name: "Primary care" },
    Topic { id: "mental-health", name: "Mental health" },
    Topic { id: "community-care", name: "Community and social care" },
    Topic { id: "end-of-life", name: "End of life care" },
    Topic { id: "prevention", name: "Prevention and population health" },
    Topic { id: "health-inequalities", name: "Health inequalities" },
    Topic { id: "medicines", name: "Medicines optimisation" },
    Topic { id: "workforce", name: "Workforce and staff wellbeing" },
    Topic { id: "digital", name: "Digital and data" },
    Topic { id: "sustainability", name: "Sustainability and green care" },
    Topic { id: "co-production", name: "Co-production with people who use services" },
    Topic { id: "measurement", name: "Measurement for improvement" },
    Topic { id: "pdsa", name: "PDSA cycles and testing change" },
    Topic { id: "leadership", name: "Improvement leadership and culture" },
];

pub fn is_known(id: &str) -> bool {
    TOPICS.iter().any(|t| t.id == id)
}

pub fn find(id: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.id == id)
}
